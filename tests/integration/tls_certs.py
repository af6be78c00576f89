"""
tls_certs.py: certificates for the TLS tests, made at test time with the
openssl program, as Redis's utils/gen-test-certs.sh makes its own: a CA, a
server certificate (for 127.0.0.1 and localhost), a client certificate, an
expired client certificate from the same CA, and a client certificate from
another CA. Keys are EC P-256: quick to make, and as good a test of the
handshake as RSA's.

    certs = tls_certs.make(directory)
    certs.ca, certs.server_crt, certs.server_key, certs.client_crt, ...
    tls_certs.server_cert(certs, directory, "name")  # another server certificate
"""

import collections
import os
import subprocess

OPENSSL = "openssl"
Certs = collections.namedtuple("Certs", "dir ca ca_key server_crt server_key client_crt client_key "
                                        "expired_crt expired_key other_ca other_crt other_key")


def _run(*args, cwd):
    r = subprocess.run([OPENSSL, *args], cwd=cwd, capture_output=True, timeout=30)
    if r.returncode != 0:
        raise AssertionError(f"openssl {' '.join(args)}: {r.stderr.decode(errors='replace')}")


def _key(d, name):
    _run("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", f"{name}.key", cwd=d)
    return os.path.join(d, f"{name}.key")


def _ca(d, name):
    _key(d, name)
    _run("req", "-x509", "-new", "-sha256", "-key", f"{name}.key", "-days", "3650",
         "-subj", f"/O=evkv test/CN={name} Certificate Authority", "-out", f"{name}.crt", cwd=d)
    return os.path.join(d, f"{name}.crt")


def _signed(d, name, ca, cn, server=False):
    """A certificate for name, signed by the CA named ca."""
    _key(d, name)
    ext = os.path.join(d, f"{name}.ext")
    with open(ext, "w") as f:
        if server:
            f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
        else:
            f.write("extendedKeyUsage=clientAuth\n")
    _run("req", "-new", "-sha256", "-key", f"{name}.key", "-subj", f"/O=evkv test/CN={cn}", "-out", f"{name}.csr",
         cwd=d)
    _run("x509", "-req", "-sha256", "-in", f"{name}.csr", "-CA", f"{ca}.crt", "-CAkey", f"{ca}.key",
         "-CAcreateserial", "-days", "365", "-extfile", ext, "-out", f"{name}.crt", cwd=d)
    return os.path.join(d, f"{name}.crt"), os.path.join(d, f"{name}.key")


def _expired(d, name, ca):
    """A client certificate of ca's that expired in 2020: `openssl ca`
    takes the dates openssl x509 does not."""
    _key(d, name)
    _run("req", "-new", "-sha256", "-key", f"{name}.key", "-subj", "/O=evkv test/CN=Expired", "-out", f"{name}.csr",
         cwd=d)
    open(os.path.join(d, "index.txt"), "w").close()
    with open(os.path.join(d, "serial"), "w") as f:
        f.write("1000\n")
    with open(os.path.join(d, "ca.cnf"), "w") as f:
        f.write(f"[ca]\ndefault_ca = ca_default\n[ca_default]\ndatabase = {d}/index.txt\nnew_certs_dir = {d}\n"
                f"serial = {d}/serial\ndefault_md = sha256\npolicy = any\n[any]\ncommonName = supplied\n")
    _run("ca", "-batch", "-config", "ca.cnf", "-cert", f"{ca}.crt", "-keyfile", f"{ca}.key", "-in", f"{name}.csr",
         "-out", f"{name}.crt", "-startdate", "20200101000000Z", "-enddate", "20200201000000Z", "-notext", cwd=d)
    return os.path.join(d, f"{name}.crt"), os.path.join(d, f"{name}.key")


def make(d):
    ca = _ca(d, "ca")
    server_crt, server_key = _signed(d, "server", "ca", "Server", server=True)
    client_crt, client_key = _signed(d, "client", "ca", "Client")
    expired_crt, expired_key = _expired(d, "expired", "ca")
    other_ca = _ca(d, "other")
    other_crt, other_key = _signed(d, "otherclient", "other", "Other client")
    return Certs(d, ca, os.path.join(d, "ca.key"), server_crt, server_key, client_crt, client_key, expired_crt,
                 expired_key, other_ca, other_crt, other_key)


def server_cert(certs, name, cn):
    """Another server certificate from the CA, named cn."""
    return _signed(certs.dir, name, "ca", cn, server=True)


def server_args(certs, auth="yes", extra=()):
    """evkv-server's (and redis-server's) TLS settings for certs."""
    return ["--tls-cert-file", certs.server_crt, "--tls-key-file", certs.server_key, "--tls-ca-cert-file", certs.ca,
            "--tls-auth-clients", auth, *extra]


def client_cert(certs, name, cn):
    """Another client certificate from the CA, its subject's CN cn (the
    ACL user it names under --tls-auth-clients-user CN)."""
    return _signed(certs.dir, name, "ca", cn)
