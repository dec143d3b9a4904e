#!/usr/bin/env python3
"""Debian's testssl.sh against the HTTPS listener (issue #11): no HIGH or
CRITICAL finding, and no scan problem (FATAL).

The checks run are protocols (-p), cipher categories (-s), server
defaults (-S: the certificate, its chain against the test CA given with
--add-ca, tickets, resumption), server preferences (-P) and the
vulnerabilities (-U: Heartbleed, CCS, ticketbleed, ROBOT, renegotiation,
CRIME, BREACH, POODLE, fallback SCSV, SWEET32, FREAK, DROWN, LOGJAM, BEAST,
LUCKY13, Winshock, RC4), against localhost:PORT pinned to 127.0.0.1
(--ip, and --nodns none: no DNS query, loopback only). The JSON output is
read: a scan that did not run (too few findings, the protocol lines
missing) fails too. Skipped under
sanitizers (a scan takes about half a minute on the release build) and
when testssl.sh is missing and cannot be installed. TESTSSL_JSON=FILE
keeps the scan's JSON there."""

import json
import os
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import check, make_tree, run_timed, sanitized, skip
from tlscerts import CA, TLSServer, need_tool

if sanitized():
    skip("sanitizer build: a testssl.sh scan takes too long there")
TESTSSL = need_tool("testssl", "testssl.sh")

base, root = make_tree({"index.html": b"<!DOCTYPE html><title>t</title>\n",
                        "small.txt": b"hello\n"})
ca = CA()
PAIR = ca.cert("rsa")
srv = TLSServer(root, [PAIR, ca.cert("ec", keyopt="ec -pkeyopt ec_paramgen_curve:P-256",
                                     cn="b.test", sans="DNS:b.test")])
BAD = ("HIGH", "CRITICAL", "FATAL")


def scan():
    out = os.environ.get("TESTSSL_JSON") or os.path.join(base, "testssl.json")
    cmd = [TESTSSL, "--quiet", "--color", "0", "--warnings", "batch", "--ip", "127.0.0.1",
           "--nodns", "none", "--add-ca", ca.crt, "--jsonfile", out,
           "-p", "-s", "-S", "-P", "-U", "localhost:%d" % srv.tport]
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=150,
                           stdin=subprocess.DEVNULL, env=dict(os.environ, TERM="dumb"))
        text = p.stdout.decode("utf-8", "replace")
    except subprocess.TimeoutExpired as e:
        check(False, "testssl.sh did not finish in 150 s: %s"
              % (e.stdout or b"")[-2000:].decode("utf-8", "replace"))
        return
    print("testssl.sh took %.1f s, exit %d" % (time.monotonic() - t0, p.returncode))
    findings = []
    if os.path.exists(out):
        with open(out) as f:
            try:
                findings = json.load(f)
            except ValueError as e:
                check(False, "testssl.sh JSON unreadable: %s" % e)
    if not check(len(findings) >= 30, "testssl.sh reported %d findings: %s"
                 % (len(findings), text[-3000:])):
        return
    by_id = {x.get("id"): x for x in findings}
    for fid, want in (("TLS1", "not offered"), ("TLS1_1", "not offered"),
                      ("TLS1_2", "offered"), ("TLS1_3", "offered"),
                      ("cert_chain_of_trust", "passed")):
        got = by_id.get(fid, {}).get("finding", "")
        check(got.startswith(want), "%s: %r, want %r" % (fid, got, want))
    # The vulnerability checks ran and passed (-U took effect).
    for fid in ("heartbleed", "CCS", "ticketbleed", "ROBOT", "secure_client_renego", "CRIME_TLS",
                "BREACH", "POODLE_SSL", "SWEET32", "FREAK", "DROWN", "LOGJAM", "BEAST", "LUCKY13",
                "RC4"):
        x = by_id.get(fid)
        check(x and x.get("severity") == "OK", "%s: %r" % (fid, x))
    bad = [x for x in findings if x.get("severity") in BAD]
    for x in bad:
        print("testssl.sh: %s %s: %s" % (x.get("severity"), x.get("id"), x.get("finding")))
    check(not bad, "testssl.sh: %d HIGH/CRITICAL/FATAL findings: %r"
          % (len(bad), [(x.get("id"), x.get("finding")) for x in bad]))
    sev = {}
    for x in findings:
        sev[x.get("severity")] = sev.get(x.get("severity"), 0) + 1
    print("severities: %r" % sev)
    for x in findings:
        if x.get("severity") in ("MEDIUM", "LOW", "WARN"):
            print("testssl.sh: %s %s: %s" % (x.get("severity"), x.get("id"), x.get("finding")))
    check(srv.alive(), "server died under the scan")


run_timed([scan])
