"""Shared pieces of the HTTPS tests that use outside clients (wrk, Chromium,
testssl.sh): a test CA and server certificates made with `openssl` at test
time, the binary started with an HTTPS listener, the certificate a new
handshake gets, and a tool that may be installed on CI.

The certificates are what a real client insists on: the CA has
basicConstraints CA:TRUE and keyCertSign, the leaf a SAN (localhost,
127.0.0.1), serverAuth and a validity of 90 days (testssl.sh rates a
certificate that expires within 30 days HIGH, one over 398 days too) and a
CRL URI (none at all is HIGH too)."""

import atexit
import os
import re
import shutil
import socket
import ssl
import subprocess
import tempfile

from harness import Server, skip

HTTPS_RE = re.compile(r"(?:127\.0\.0\.1|\[::1\]):(\d+) \(https\)")


class CA:
    """A temporary directory with ca.crt/ca.key; cert() signs leaves."""

    def __init__(self, name="ringserve-test-CA"):
        if not shutil.which("openssl"):
            skip("openssl is needed")
        self.dir = tempfile.mkdtemp(prefix="ringserve-tlsca-")
        atexit.register(shutil.rmtree, self.dir, True)
        # -config: a minimal one of our own, so the CA's extensions are
        # exactly these whatever the system's openssl.cnf says.
        self._ext("ca.cnf", "[req]\ndistinguished_name=dn\n[dn]\n[v3]\n"
                  "basicConstraints=critical,CA:TRUE\n"
                  "keyUsage=critical,keyCertSign,cRLSign\n"
                  "subjectKeyIdentifier=hash\n")
        self.sh("openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt "
                "-days 120 -subj '/O=ringserve-test/CN=%s' -config ca.cnf -extensions v3"
                % name)
        self.crt = self.path("ca.crt")

    def path(self, name):
        return os.path.join(self.dir, name)

    def _ext(self, name, text):
        with open(self.path(name), "w") as f:
            f.write(text)

    def sh(self, cmd):
        r = subprocess.run(cmd, shell=True, cwd=self.dir, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=60)
        if r.returncode:
            raise RuntimeError("%s: %s" % (cmd, r.stdout.decode(errors="replace")))

    def cert(self, stem, keyopt="rsa:2048", cn="localhost",
             sans="DNS:localhost,IP:127.0.0.1", org="ringserve-test", days=90):
        """stem.crt and stem.key (mode 0600) signed by the CA; returns the
        two paths. The serial is random (128 bits), as a public CA's is."""
        self.sh("openssl req -new -newkey %s -nodes -keyout %s.key -out %s.csr "
                "-subj '/O=%s/CN=%s' 2>/dev/null" % (keyopt, stem, stem, org, cn))
        self._ext(stem + ".ext", "subjectAltName=%s\nbasicConstraints=CA:FALSE\n"
                  "keyUsage=critical,digitalSignature,keyEncipherment\n"
                  "extendedKeyUsage=serverAuth\n"
                  "authorityKeyIdentifier=keyid\n"
                  # Never fetched (no client here checks revocation online):
                  # testssl.sh rates a certificate with no CRL or OCSP URI HIGH.
                  "crlDistributionPoints=URI:http://127.0.0.1:9/test-ca.crl\n" % sans)
        self.sh("openssl x509 -req -in %s.csr -CA ca.crt -CAkey ca.key -set_serial 0x%s "
                "-days %d -sha256 -out %s.crt -extfile %s.ext 2>/dev/null"
                % (stem, os.urandom(16).hex(), days, stem, stem))
        os.chmod(self.path(stem + ".key"), 0o600)
        return self.path(stem + ".crt"), self.path(stem + ".key")


def cert_der(pem_path):
    """The DER bytes of the first certificate in a PEM file."""
    with open(pem_path) as f:
        text = f.read()
    m = re.search(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", text, re.S)
    return ssl.PEM_cert_to_DER_cert(m.group(0))


def served_der(port, server_hostname="localhost", timeout=5):
    """The certificate a new handshake on 127.0.0.1:port gets (DER), no
    verification: the caller compares it with the file it expects."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as raw:
        with ctx.wrap_socket(raw, server_hostname=server_hostname) as s:
            return s.getpeercert(binary_form=True)


class TLSServer(Server):
    """The binary with an HTTPS listener next to the HTTP one (port 0 for
    both); .tport is the HTTPS port from the startup line."""

    def __init__(self, root, pairs, extra=(), **kw):
        args = ["--tls-port", "0"]
        for c, k in pairs:
            args += ["--tls-cert", c, "--tls-key", k]
        super().__init__(root, extra=args + list(extra), **kw)
        m = HTTPS_RE.search(self.stderr_text())
        if not m:
            raise RuntimeError("no HTTPS listener in the startup line: %s"
                               % self.stderr_text()[:400])
        self.tport = int(m.group(1))


def installable():
    """A missing Debian package may be installed here: CI, or asked for
    (as chromium.py does for the browser), and we are root with apt-get."""
    want = os.environ.get("CI", "").lower() == "true" or \
        os.environ.get("RINGSERVE_BROWSER_INSTALL", "") == "1" or \
        os.environ.get("RINGSERVE_TEST_INSTALL", "") == "1"
    return want and os.geteuid() == 0 and shutil.which("apt-get")


def need_tool(cmd, pkg):
    """The path of `cmd`, installing Debian package `pkg` when allowed
    (./run test installs it with the other TEST_PKGS); otherwise exit 77."""
    p = shutil.which(cmd)
    if p:
        return p
    if not installable():
        skip("%s not installed (Debian package %s; CI=true or "
             "RINGSERVE_TEST_INSTALL=1 lets the test apt-get install it)" % (cmd, pkg))
    print("%s missing: apt-get install -y %s" % (cmd, pkg), flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    line = "apt-get install -y -qq --no-install-recommends %s || " \
           "(apt-get update -qq && apt-get install -y -qq --no-install-recommends %s)" \
           % (pkg, pkg)
    try:
        subprocess.run(["sh", "-c", line], env=env, timeout=600, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        pass
    p = shutil.which(cmd)
    if not p:
        skip("%s could not be installed (package %s)" % (cmd, pkg))
    return p


def https_get(port, path, cafile, server_hostname="localhost", timeout=10):
    """One GET over a verified TLS connection; the harness's Response."""
    from harness import Conn, request
    ctx = ssl.create_default_context(cafile=cafile)
    raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s = ctx.wrap_socket(raw, server_hostname=server_hostname)
    with Conn(s) as c:
        c.send(request(path, headers=["Connection: close"]))
        return c.read_response()
