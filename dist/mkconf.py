#!/usr/bin/env python3
"""Write the example configuration file from the binary itself: every
option of --help, its description and range as comments, and its default
(from --check-config) as a commented-out setting, so the example always
lists exactly the options the program takes, in the syntax it reads.

usage: mkconf.py RINGSERVE OUT
"""
import re
import subprocess
import sys

# Settings whose default is not a value to write down: an example instead.
EXAMPLES = {
    "root": ("/srv/www", None),
    "bind": ("127.0.0.1", "default: all interfaces (:: or 0.0.0.0)"),
    "metrics": ("127.0.0.1:9100", "default: off"),
    "trusted-proxy": ("10.0.0.0/8", None),
    "header": ("/assets/* Cache-Control: public, max-age=31536000", None),
    "cors": ("https://example.com", None),
    "auth-path": ("/private", None),
    "error-page": ("404=/404.html", None),
    "threads": ("4", None),
    "tls-port": ("443", "default: no HTTPS listener"),
    "tls-cert": ("/etc/ringserve/tls/cert.pem", None),
    "tls-key": ("/etc/ringserve/tls/key.pem", None),
}


def help_blocks(text):
    """long name -> [description, detail lines] from --help."""
    out, cur = {}, None
    for line in text.splitlines():
        m = re.match(r"^  (?:-\S, |    )--([a-z0-9-]+)(?:\[?=\S+)?\s{2,}(.*)$", line)
        if m:
            cur = out[m.group(1)] = [m.group(2), []]
        elif cur and line.startswith("        ") and line.strip():
            cur[1].append(line.strip())
        else:
            cur = None
    return out


def main():
    binary, dest = sys.argv[1], sys.argv[2]
    helped = subprocess.run([binary, "--help"], capture_output=True, text=True,
                            check=True).stdout
    settings = subprocess.run([binary, "--check-config", "/"], capture_output=True,
                              text=True, check=True, env={}).stdout
    version = subprocess.run([binary, "--version"], capture_output=True, text=True,
                             check=True).stdout.split()[-1]
    blocks = help_blocks(helped)
    r = ["# ringserve.conf: every option of ringserve %s, with its default." % version,
         "# Generated from 'ringserve --help' and 'ringserve --check-config'.",
         "#",
         "# One option a line, by its long name without the dashes. To change a",
         "# setting, remove the '#' before its name. Options given on the command",
         "# line win over this file. Check a file with:",
         "#     ringserve --config FILE --check-config",
         "# Syntax (quotes, comments, flags): 'Configuration file' in ringserve(1)."]
    for line in settings.splitlines():
        m = re.match(r"^([a-z0-9-]+) = (.*)$", line) or re.match(r"^# ([a-z0-9-]+): (.*)$", line)
        if not m:
            continue
        name, value = m.group(1), m.group(2)
        desc, detail = blocks.get(name, ["", []])
        example, note = EXAMPLES.get(name, (None, None))
        r.append("")
        if desc:
            r.append("# " + desc)
        for d in detail:
            # The build machine's CPU count is no default for another.
            d = re.sub(r"default \d+ \(CPUs\)", "default one per CPU", d)
            if not d.startswith("default ") or note is None:
                r.append("# " + d)
        if note:
            r.append("# " + note)
        r.append("#%s = %s" % (name, example or value))
    with open(dest, "w") as f:
        f.write("\n".join(r) + "\n")


main()
