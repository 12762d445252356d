"""A throwaway certificate authority so fakes can serve https to real clients.

Clients that only accept https (python-pagerduty) then talk to a fake over real TLS, trusting
the CA through SSL_CERT_FILE or an explicit SSL context, as a company proxy CA would be trusted.
The certificates are made with the `openssl` command line tool, so no extra Python package is
needed for tests, benchmarks or demos.
"""

from __future__ import annotations

import shutil
import ssl
import subprocess
import tempfile
from pathlib import Path


class LocalCA:
    """A certificate authority issuing a 127.0.0.1/localhost server certificate."""

    def __init__(self) -> None:
        openssl = shutil.which("openssl")
        if openssl is None:
            raise RuntimeError("the openssl command is needed to serve the fakes over https")
        self._dir = tempfile.TemporaryDirectory(prefix="sevbot-ca-")
        root = Path(self._dir.name)
        self.ca_file = root / "ca.pem"
        self.cert_file = root / "server.pem"
        self.key_file = root / "server.key"
        ext = root / "ext.cnf"
        ext.write_text(
            "basicConstraints=CA:FALSE\n"
            "keyUsage=digitalSignature,keyEncipherment\n"
            "extendedKeyUsage=serverAuth\n"
            "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
        )

        def run(*args: str) -> None:
            subprocess.run([openssl, *args], check=True, capture_output=True, cwd=root)

        run(
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/O=sevbot fake CA/CN=sevbot fake CA",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        )  # fmt: skip
        run(
            "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1",
        )  # fmt: skip
        run(
            "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf",
        )  # fmt: skip

    def server_context(self) -> ssl.SSLContext:
        """Return a server-side context presenting the issued certificate."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(self.cert_file), str(self.key_file))
        return context

    def client_context(self) -> ssl.SSLContext:
        """Return a client-side context that trusts only this CA."""
        return ssl.create_default_context(cafile=str(self.ca_file))

    def cleanup(self) -> None:
        """Delete the CA files."""
        self._dir.cleanup()
