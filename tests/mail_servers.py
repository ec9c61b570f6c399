"""Private Postfix and Dovecot instances on 127.0.0.1, for tests that need a real MTA and IMAP server.

Debian's packages (`postfix`, `dovecot-imapd`; `.ci/run` installs them) run as a private instance
in a short run folder: nothing listens beyond loopback, nothing can leave the machine
(`default_transport = error`), and the system's own instances are never touched. Postfix accepts
mail for any local user at RCPT time (`local_recipient_maps =`) and then bounces mail for unknown
users with its own RFC 3464 report — the real bounce the tests need. The rep's mailbox is a Maildir
inside the run folder (an alias delivers to it), which Dovecot serves over IMAP, so each test
session has a mailbox of its own and no system user is created.

The traps (measured on Debian 12, kept here): daemons inherit stdout/stderr (start them with
/dev/null, or a captured start waits forever); Postfix speaks only through `maillog_file` and only
inside `maillog_file_prefixes`; socket paths must stay under ~107 bytes (a short /tmp folder);
every service runs without chroot.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

DOMAIN = "lumina.test"
REP_USER = "rep"
REP_ADDRESS = f"{REP_USER}@{DOMAIN}"
PROSPECT_USER = "prospect"
REP_PASSWORD = "imap-test-password-7f3a"  # a test mailbox's password; registered as a secret by tests
START_DEADLINE_SECONDS = 60.0

MASTER_CF = """\
127.0.0.1:{port} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""

DOVECOT_CONF = """\
protocols = imap
listen = 127.0.0.1
base_dir = {run}/dv/run
state_dir = {run}/dv/state
instance_name = lumina-{imap_port}
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
disable_plaintext_auth = no
auth_mechanisms = plain login
log_path = {run}/dv/dovecot.log
info_log_path = {run}/dv/dovecot.log
mail_location = maildir:~/Maildir
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {run}/dv/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {run}/dv/users
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
    ssl = yes
  }}
}}
"""


class MailServersUnavailable(Exception):
    """Postfix or Dovecot is missing or would not start; the message says which and why."""


@dataclass
class MailServers:
    run: Path
    smtp_port: int
    imap_port: int  # plain, and STARTTLS
    postfix_dir: Path
    dovecot_conf: Path
    maildir: Path
    imaps_port: int = 0  # implicit TLS; the certificate is signed by `ca_file`
    ca_file: Path | None = None

    @property
    def postfix_log(self) -> Path:
        return self.run / "postfix.log"

    def set_uidvalidity(self, value: int) -> None:
        """Give the rep's INBOX a new UIDVALIDITY, as a restored or rebuilt mailbox would have."""
        argv = ["doveadm", "-c", str(self.dovecot_conf), "mailbox", "update", "-u", REP_ADDRESS]
        result = subprocess.run(
            [*argv, "--uid-validity", str(value), "INBOX"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if result.returncode != 0:
            raise RuntimeError(f"doveadm mailbox update failed: {result.stderr.strip()}")

    def stop(self) -> None:
        if not self.run.exists():
            return  # already stopped (the fixture's teardown, then atexit)
        with contextlib.suppress(Exception):
            _quiet(["postfix", "-c", str(self.postfix_dir), "stop"], timeout=60)
        pid_file = self.run / "dv" / "run" / "master.pid"
        with contextlib.suppress(Exception):
            os.kill(int(pid_file.read_text().strip()), 15)
        shutil.rmtree(self.run, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _quiet(argv: list[str], *, timeout: float) -> int:
    """Run a daemon's control command with no inherited stdout/stderr (see the module docstring)."""
    return subprocess.run(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=timeout
    ).returncode


def _wait_for_port(port: int, deadline: float) -> bool:
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
        time.sleep(0.1)  # polling a condition (a port), with a generous deadline
    return False


def _greets(port: int, greeting: bytes, deadline: float) -> bool:
    """The port answers with our server's greeting (not merely "something listens there")."""
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            return sock.recv(512).startswith(greeting)
        time.sleep(0.1)  # polling a condition (a port), with a generous deadline
    return False


def why_unavailable() -> str | None:
    """None when both servers can run here, else the reason the tests skip."""
    missing = [name for name in ("postfix", "postconf", "postalias", "dovecot") if shutil.which(name) is None]
    if missing:
        return f"{', '.join(missing)} not installed (apt-get install postfix dovecot-imapd; .ci/run does it)"
    if os.geteuid() != 0:
        return "a private Postfix instance must be started as root"
    for user in ("postfix", "nobody", "dovenull", "dovecot"):
        try:
            pwd.getpwnam(user)
        except KeyError:
            return f"the system user {user!r} is missing (the postfix/dovecot packages create it)"
    return None


#: Free ports are picked by binding port 0 and letting go; on a busy machine another process can take
#: one before Postfix or Dovecot binds it. A start that fails (or finds a stranger on its port) is
#: retried on fresh ports.
START_ATTEMPTS = 3


def start_mail_servers() -> MailServers:
    """Start Postfix (SMTP on 127.0.0.1) delivering to a Maildir that Dovecot serves over IMAP."""
    reason = why_unavailable()
    if reason:
        raise MailServersUnavailable(reason)
    for attempt in range(1, START_ATTEMPTS + 1):
        try:
            return _start_once()
        except MailServersUnavailable:
            if attempt == START_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def _start_once() -> MailServers:
    run = Path(tempfile.mkdtemp(prefix="lmx", dir="/tmp"))  # short: Unix socket paths are ~107 bytes
    run.chmod(0o755)
    smtp_port, imap_port, imaps_port = _free_port(), _free_port(), _free_port()
    postfix_dir = run / "pf"
    maildir = run / "mail" / REP_USER / "Maildir"
    for path in (postfix_dir, run / "pq", run / "pd", run / "dv" / "run", run / "dv" / "state"):
        path.mkdir(parents=True)
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True)
    nobody = pwd.getpwnam("nobody")
    for path in [run / "mail", *(run / "mail").rglob("*")]:
        os.chown(path, nobody.pw_uid, nobody.pw_gid)
    os.chown(run / "pd", pwd.getpwnam("postfix").pw_uid, -1)
    (postfix_dir / "main.cf").write_text("")
    (postfix_dir / "master.cf").write_text(MASTER_CF.format(port=smtp_port))
    aliases = run / "aliases"
    aliases.write_text(
        f"{REP_USER}: {maildir}/\npostmaster: {REP_USER}\nroot: {REP_USER}\nmailer-daemon: {REP_USER}\n"
        # Prospects who exist: mail to them is delivered nowhere (prospect+tag@ reaches it too).
        f"{PROSPECT_USER}: /dev/null\n"
    )
    servers = MailServers(
        run, smtp_port, imap_port, postfix_dir, run / "dv" / "dovecot.conf", maildir, imaps_port
    )
    try:
        settings = {
            "compatibility_level": "3.6",
            "queue_directory": str(run / "pq"),
            "data_directory": str(run / "pd"),
            "myhostname": DOMAIN,
            "mydomain": DOMAIN,
            "myorigin": DOMAIN,
            "mydestination": f"{DOMAIN}, localhost",
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "mynetworks": "127.0.0.0/8",
            "local_recipient_maps": "",
            "alias_maps": f"hash:{aliases}",
            "alias_database": f"hash:{aliases}",
            "default_transport": "error",
            "relay_transport": "error",
            "maillog_file": str(servers.postfix_log),
            "maillog_file_prefixes": str(run),
            "biff": "no",
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "default_privs": "nobody",
            "smtpd_banner": "$myhostname ESMTP",
            "recipient_delimiter": "+",
        }
        argv = ["postconf", "-c", str(postfix_dir), "-e", *(f"{k}={v}" for k, v in settings.items())]
        if _quiet(argv, timeout=60) != 0:
            raise MailServersUnavailable("postconf could not write the private main.cf")
        if _quiet(["postalias", "-c", str(postfix_dir), str(aliases)], timeout=60) != 0:
            raise MailServersUnavailable("postalias could not build the aliases map")
        if _quiet(["postfix", "-c", str(postfix_dir), "start"], timeout=120) != 0:
            raise MailServersUnavailable(f"postfix would not start: {_tail(servers.postfix_log)}")
        home = run / "mail" / REP_USER
        (run / "dv" / "users").write_text(
            f"{REP_ADDRESS}:{{PLAIN}}{REP_PASSWORD}:{nobody.pw_uid}:{nobody.pw_gid}::{home}\n"
        )
        from smtp_sink import make_tls_files  # a throw-away CA and a certificate for 127.0.0.1

        (run / "tls").mkdir()
        tls = make_tls_files(run / "tls")
        servers.ca_file = tls.ca_cert
        servers.dovecot_conf.write_text(
            DOVECOT_CONF.format(
                run=run, imap_port=imap_port, imaps_port=imaps_port, cert=tls.server_cert, key=tls.server_key
            )
        )
        if _quiet(["dovecot", "-c", str(servers.dovecot_conf)], timeout=60) != 0:
            raise MailServersUnavailable(f"dovecot would not start: {_tail(run / 'dv' / 'dovecot.log')}")
        deadline = time.monotonic() + START_DEADLINE_SECONDS
        if not _greets(smtp_port, f"220 {DOMAIN} ESMTP".encode(), deadline):
            raise MailServersUnavailable(f"postfix never listened: {_tail(servers.postfix_log)}")
        if not (_greets(imap_port, b"* OK", deadline) and _wait_for_port(imaps_port, deadline)):
            raise MailServersUnavailable(f"dovecot never listened: {_tail(run / 'dv' / 'dovecot.log')}")
    except BaseException:
        servers.stop()
        raise
    # A session that dies without its teardown (an interrupted run) still stops its servers.
    atexit.register(servers.stop)
    return servers


def _tail(path: Path, lines: int = 5) -> str:
    try:
        return " | ".join(path.read_text(errors="replace").splitlines()[-lines:]) or "(empty log)"
    except OSError:
        return "(no log)"
