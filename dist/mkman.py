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
    r.append("io_uring and SO_REUSEPORT listener. It answers GET and HEAD, ranges,")
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
    r.append(".SH SIGNALS")
    r.append(".TP")
    r.append("\\fBSIGTERM\\fR, \\fBSIGINT\\fR")
    r.append("Close the listeners at once, close idle connections, let responses in")
    r.append("flight finish, and exit 0 when done or after \\fB\\-\\-drain\\-timeout\\fR.")
    r.append("A second signal exits at once with status 1.")
    r.append(".TP")
    r.append("\\fBSIGPIPE\\fR")
    r.append("Ignored.")
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
    r.append(".I /etc/mime.types")
    r.append("Media types by file extension (Debian's media\\-types package).")
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
    r.append("Load test one worker pinned to CPU 0 from CPU 1:")
    r.append(".PP")
    r.append(".RS")
    r.append("taskset \\-c 0 ringserve \\-t 1 \\-\\-no\\-pin /srv/www &")
    r.append(".br")
    r.append("taskset \\-c 1 wrk \\-t1 \\-c64 \\-d10s http://127.0.0.1:8080/file")
    r.append(".RE")
    r.append(".SH SEE ALSO")
    r.append("io_uring(7), openat2(2), wrk(1)")
    with open(dest, "w") as f:
        f.write("\n".join(r) + "\n")


main()
