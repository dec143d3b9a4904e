#!/usr/bin/env python3
"""Write ringserve.1 from the binary's own --help, so the man page lists
every option with the same ranges and defaults the program enforces.

usage: mkman.py RINGSERVE OUT
"""
import re
import subprocess
import sys


def esc(s):
    """roff-escape a line of text."""
    s = s.replace("\\", "\\e").replace("-", "\\-")
    if s.startswith((".", "'")):
        s = "\\&" + s
    return s


def options(help_text):
    """(flags, description, detail) for each option in --help."""
    out, cur = [], None
    for line in help_text.splitlines():
        m = re.match(r"^  (-\S, |    )(--\S+)(?:\s{2,}(.*))?$", line)
        if m:
            cur = [m.group(1).strip() + (" " if m.group(1).strip() else "") + m.group(2),
                   m.group(3) or "", []]
            out.append(cur)
        elif cur and line.startswith("        ") and line.strip():
            cur[2].append(line.strip())
        elif not line.strip():
            cur = None
    return out


def sections(help_text):
    """(title, text) for each "Heading:" paragraph after the options in
    --help (the configuration file, the environment)."""
    out, cur = [], None
    for line in help_text.splitlines():
        m = re.match(r"^([A-Z][a-z ]+):$", line)
        if m:
            cur = [m.group(1).upper(), []]
            out.append(cur)
        elif cur and line.startswith("  ") and line.strip():
            cur[1].append(line.strip())
        else:
            cur = None
    return [(t, " ".join(words)) for t, words in out]


def main():
    binary, dest = sys.argv[1], sys.argv[2]
    help_text = subprocess.run([binary, "--help"], capture_output=True,
                               text=True, check=True).stdout
    version = subprocess.run([binary, "--version"], capture_output=True,
                             text=True, check=True).stdout.split()[-1]
    r = []
    r.append('.TH RINGSERVE 1 "" "ringserve %s" "User Commands"' % version)
    r.append(".SH NAME")
    r.append("ringserve \\- static HTTP/1.1 file server on io_uring")
    r.append(".SH SYNOPSIS")
    r.append(".B ringserve")
    r.append("[\\fIOPTION\\fR]... [\\fIROOT\\fR]")
    r.append(".SH DESCRIPTION")
    r.append("ringserve serves the regular files under ROOT (default: the current")
    r.append("directory) over HTTP/1.1, with one worker thread per CPU, each with its own")
    r.append("io_uring and SO_REUSEPORT listener per TCP address (unix sockets and")
    r.append("sockets passed by systemd are shared by all workers). It answers GET and HEAD, ranges,")
    r.append("conditional requests, directory listings and precompressed variants,")
    r.append("and confines every open to ROOT with openat2(RESOLVE_BENEATH).")
    r.append(".PP")
    r.append("SIZE arguments take K, M and G suffixes (powers of 1024).")
    r.append("A bad value is reported on one line and the exit status is 2.")
    r.append(".SH OPTIONS")
    for flags, desc, detail in options(help_text):
        r.append(".TP")
        r.append("\\fB%s\\fR" % esc(flags))
        r.append(esc(desc) if desc else "")
        for d in detail:
            r.append(".br")
            r.append(esc(d))
    for title, text in sections(help_text):
        r.append(".SH %s" % title)
        r.append(esc(text))
    r.append(".SH SIGNALS")
    r.append(".TP")
    r.append("\\fBSIGTERM\\fR, \\fBSIGINT\\fR")
    r.append("Close the listeners at once, close idle connections, let responses in")
    r.append("flight finish, and exit 0 when done or after \\fB\\-\\-drain\\-timeout\\fR.")
    r.append("A second signal exits at once with status 1.")
    r.append(".TP")
    r.append("\\fBSIGHUP\\fR, \\fBSIGUSR1\\fR")
    r.append("Reopen the access log file (after logrotate renamed it). Each worker")
    r.append("moves to the new file at its next 250 ms tick; every line goes to exactly")
    r.append("one of the two files.")
    r.append(".TP")
    r.append("\\fBSIGPIPE\\fR")
    r.append("Ignored.")
    r.append(".SH LISTENERS")
    r.append("\\fB\\-b\\fR may be repeated: an address on the \\fB\\-p\\fR port, ADDR:PORT")
    r.append("([IPv6]:PORT), or unix:PATH. A unix socket is created with \\fB\\-\\-unix\\-mode\\fR")
    r.append("and, with \\fB\\-\\-user\\fR, owned by that user; an existing socket file is")
    r.append("replaced only when nothing accepts on it, and removed on SIGTERM. Unix clients")
    r.append("are logged as unix:. The same listener twice is a usage error.")
    r.append(".PP")
    r.append("Socket activation: when LISTEN_PID is the process's pid, the LISTEN_FDS")
    r.append("descriptors from 3 on (named by LISTEN_FDNAMES) are used instead of")
    r.append("\\fB\\-b\\fR and \\fB\\-p\\fR; each must be a listening stream socket. They are never")
    r.append("shut down: on SIGTERM the workers only stop accepting on them.")
    r.append(".SH PROXIES")
    r.append("With \\fB\\-\\-proxy\\-protocol\\fR every TCP listener expects a PROXY protocol")
    r.append("v1 or v2 header first; its source address becomes the client's. UNKNOWN,")
    r.append("LOCAL and AF_UNSPEC keep the socket's peer. A missing, malformed, oversized")
    r.append("(v1: 107 bytes, v2: \\fB\\-\\-max\\-proxy\\-header\\fR), cut or late")
    r.append("(\\fB\\-\\-header\\-timeout\\fR) header closes the connection without an answer")
    r.append("and is counted in ringserve_proxy_errors_total.")
    r.append(".PP")
    r.append("With \\fB\\-\\-trusted\\-proxy\\fR CIDR, a request from a peer inside one takes its")
    r.append("client from X\\-Forwarded\\-For (or Forwarded for=, \\fB\\-\\-real\\-ip\\-header\\fR):")
    r.append("the right\\-most address that is not trusted, the left\\-most when all are; an")
    r.append("entry that is not an address stops at the hop that wrote it.")
    r.append(".SH ACCESS LOG")
    r.append("With \\fB\\-\\-access\\-log\\fR, one line per response: Combined Log Format")
    r.append("by default (client address, time in UTC, request line, status, body bytes or")
    r.append("\\-, Referer, User\\-Agent), Common Log Format without the last two, or one")
    r.append("JSON object per line (time, remote_addr, request, status, bytes, referer,")
    r.append("user_agent, request_time in seconds). Client bytes are escaped: \\exHH in")
    r.append("CLF, \\eu00HH in JSON. A client that leaves before any response is logged as")
    r.append("499. Lines are batched per worker and written through io_uring when a batch")
    r.append("is full or every 250 ms; when every batch is still being written the worker")
    r.append("writes synchronously rather than drop lines.")
    r.append(".SH METRICS")
    r.append("With \\fB\\-\\-metrics\\fR ADDR:PORT, GET /metrics answers in the Prometheus")
    r.append("text format, per worker: ringserve_requests_total{class}, ringserve_sent_bytes_total{path},")
    r.append("ringserve_connections_accepted_total, ringserve_connections_closed_total,")
    r.append("ringserve_connections_open, ringserve_accept_errors_total, ringserve_timeouts_total{kind},")
    r.append("ringserve_file_cache_hits_total, ringserve_file_cache_misses_total,")
    r.append("ringserve_uring_submits_total, ringserve_uring_cqes_total, the")
    r.append("ringserve_access_log_* counters, ringserve_proxy_errors_total and")
    r.append("ringserve_forwarded_clients_total. Bind it to a loopback or private address.")
    r.append(".SH SECURITY")
    r.append("Every file and directory is opened relative to ROOT with openat2(2) and")
    r.append("RESOLVE_BENEATH (and RESOLVE_NO_SYMLINKS or RESOLVE_NO_MAGICLINKS per")
    r.append("\\fB\\-\\-follow\\-symlinks\\fR), so no path, \\&.. segment or symlink can reach")
    r.append("outside it; there is therefore no \\-\\-chroot. \\fB\\-\\-user\\fR drops root after")
    r.append("binding; with it, a reopened access log is opened as that user.")
    r.append(".SH EXIT STATUS")
    r.append(".TP")
    r.append("0")
    r.append("Clean shutdown.")
    r.append(".TP")
    r.append("1")
    r.append("Runtime failure (io_uring unavailable, address in use, ...), with a message.")
    r.append(".TP")
    r.append("2")
    r.append("Usage error: a bad option or value, or ROOT not a directory.")
    r.append(".SH FILES")
    r.append(".TP")
    r.append(".I /etc/ringserve/ringserve.conf")
    r.append("The configuration ringserve.service starts ringserve with (under another")
    r.append("installation prefix, PREFIX/etc/ringserve/ringserve.conf).")
    r.append(".TP")
    r.append(".I /usr/share/doc/ringserve/examples/ringserve.conf.example")
    r.append("Every option with its description, range and default, commented out.")
    r.append(".TP")
    r.append(".I /etc/mime.types")
    r.append("Media types by file extension (Debian's media\\-types package).")
    r.append(".TP")
    r.append(".I /lib/systemd/system/ringserve.socket")
    r.append("Socket activation: systemd listens on port 80 and starts ringserve.service.")
    r.append(".TP")
    r.append(".I /usr/share/doc/ringserve/examples/ringserve.logrotate")
    r.append("A logrotate(8) snippet for the access log (copy to /etc/logrotate.d/ringserve).")
    r.append(".SH EXAMPLES")
    r.append("Serve /srv/www on port 8080 with one worker per CPU:")
    r.append(".PP")
    r.append(".RS")
    r.append("ringserve /srv/www")
    r.append(".RE")
    r.append(".PP")
    r.append("Port 80 on IPv6 and IPv4, then run as www\\-data:")
    r.append(".PP")
    r.append(".RS")
    r.append("ringserve \\-p 80 \\-\\-user www\\-data /srv/www")
    r.append(".RE")
    r.append(".PP")
    r.append("Read the settings from a file, one overridden on the command line; check")
    r.append("a file before a restart:")
    r.append(".PP")
    r.append(".RS")
    r.append(".nf")
    r.append("ringserve \\-\\-config /etc/ringserve/ringserve.conf \\-\\-port 8080")
    r.append("ringserve \\-\\-config /etc/ringserve/ringserve.conf \\-\\-check\\-config")
    r.append(".fi")
    r.append(".RE")
    r.append(".PP")
    r.append("Behind HAProxy (send\\-proxy\\-v2) on port 8080, and a unix socket for a local proxy:")
    r.append(".PP")
    r.append(".RS")
    r.append(".nf")
    r.append("ringserve \\-b 10.0.0.5:8080 \\-\\-proxy\\-protocol \\e")
    r.append("    \\-b unix:/run/ringserve/http.sock \\-\\-unix\\-mode 0660 /srv/www")
    r.append(".fi")
    r.append(".RE")
    r.append(".PP")
    r.append("Behind nginx or another HTTP proxy on 10.0.0.0/8 that appends X\\-Forwarded\\-For:")
    r.append(".PP")
    r.append(".RS")
    r.append("ringserve \\-\\-trusted\\-proxy 10.0.0.0/8 /srv/www")
    r.append(".RE")
    r.append(".PP")
    r.append("Load test one worker pinned to CPU 0 from CPU 1:")
    r.append(".PP")
    r.append(".RS")
    r.append("taskset \\-c 0 ringserve \\-t 1 \\-\\-no\\-pin /srv/www &")
    r.append(".br")
    r.append("taskset \\-c 1 wrk \\-t1 \\-c64 \\-d10s http://127.0.0.1:8080/file")
    r.append(".RE")
    r.append(".PP")
    r.append("Access log in JSON and metrics on loopback; rotate with logrotate:")
    r.append(".PP")
    r.append(".RS")
    r.append(".nf")
    r.append("ringserve \\-\\-access\\-log /var/log/ringserve/access.log \\e")
    r.append("    \\-\\-log\\-format json \\-\\-metrics 127.0.0.1:9100 /srv/www")
    r.append("cd /var/log/ringserve && mv access.log access.log.1")
    r.append("pkill \\-HUP \\-x ringserve")
    r.append(".fi")
    r.append(".RE")
    r.append(".SH SEE ALSO")
    r.append("io_uring(7), openat2(2), logrotate(8), wrk(1)")
    with open(dest, "w") as f:
        f.write("\n".join(r) + "\n")


main()
