"""integration.install: what cmake --install puts where.

Installs the build tree with DESTDIR into a temporary directory, and again
under a temporary --prefix, then checks the exact set of files installed,
that the installed programs run, the systemd unit's commands and settings,
the sample config against evkv-server --help, and the man pages (their
sections: EXIT STATUS, ENVIRONMENT, FILES, EXAMPLES, SEE ALSO; -u's URI
forms as a list; no backtick). Nothing is
written outside the temporary directory: when the configured layout puts a
file outside the prefix (the config in /etc, for the prefix /usr), the
--prefix install is skipped.

It also checks the documentation of the source tree: README.md stays short
(under 300 lines), and every relative link of README.md, docs/*.md and
proto/PROTOCOL.md names a file that exists, and a heading of it when the
link names one (#anchor).

The build comes from the environment (CTest sets it):
  EVKV_BUILD_DIR       the build tree to install (default ../../build)
  EVKV_CMAKE           the cmake to run (default: cmake on the PATH)
  EVKV_VERSION         the project's version (default 0.1.0)
  EVKV_HELP2MAN        1 if configure found help2man, so man pages are built
  EVKV_INSTALL_PREFIX, EVKV_INSTALL_BINDIR, EVKV_INSTALL_MANDIR,
  EVKV_INSTALL_FULL_SYSCONFDIR, EVKV_SYSTEMD_UNIT_DIR
                       the configured layout (defaults: GNUInstallDirs' for
                       the prefix /usr/local, and lib/systemd/system)
"""

import os
import re
import shutil
import stat
import subprocess
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.environ.get("EVKV_BUILD_DIR") or os.path.join(HERE, "..", "..", "build")
CMAKE = os.environ.get("EVKV_CMAKE") or "cmake"
VERSION = os.environ.get("EVKV_VERSION") or "0.1.0"
HELP2MAN = os.environ.get("EVKV_HELP2MAN", "1" if shutil.which("help2man") else "0") == "1"
PREFIX = os.environ.get("EVKV_INSTALL_PREFIX") or "/usr/local"
BINDIR = os.environ.get("EVKV_INSTALL_BINDIR") or "bin"
MANDIR = os.environ.get("EVKV_INSTALL_MANDIR") or "share/man"
FULL_SYSCONFDIR = os.environ.get("EVKV_INSTALL_FULL_SYSCONFDIR") or os.path.join(PREFIX, "etc")
UNITDIR = os.environ.get("EVKV_SYSTEMD_UNIT_DIR") or "lib/systemd/system"

PROGRAMS = ["evkv-server", "evkv-cli", "evkv-bench"]

# The lines of the sample config that are not comments: what a packaged
# deployment sets. Every other option is there, commented.
CONFIG_SET = ["host 127.0.0.1", "port 65432", "log-level info"]
# Options of the spec that --help may not list yet on every branch.
CONFIG_MORE = ["unix", "log-level", "log-file"]
# Options that make no sense in a config file.
NOT_IN_CONFIG = {"help", "version", "config", "check-config"}

# The unit's settings, exactly, but for the Exec lines (checked apart).
UNIT_SERVICE = {
    "Type": ["notify"],
    "KillSignal": ["SIGTERM"],
    "TimeoutStopSec": ["8"],
    "Restart": ["on-failure"],
    "RestartPreventExitStatus": ["2"],
    "LimitNOFILE": ["65536"],
    "DynamicUser": ["yes"],
    "StateDirectory": ["evkv"],
    "LogsDirectory": ["evkv"],
    "RuntimeDirectory": ["evkv"],
    "NoNewPrivileges": ["yes"],
    "ProtectSystem": ["strict"],
    "ProtectHome": ["yes"],
    "PrivateTmp": ["yes"],
    "PrivateDevices": ["yes"],
    "ProtectKernelTunables": ["yes"],
    "ProtectKernelModules": ["yes"],
    "ProtectKernelLogs": ["yes"],
    "ProtectControlGroups": ["yes"],
    "ProtectClock": ["yes"],
    "ProtectHostname": ["yes"],
    "RestrictAddressFamilies": ["AF_INET AF_INET6 AF_UNIX"],
    "RestrictNamespaces": ["yes"],
    "RestrictRealtime": ["yes"],
    "RestrictSUIDSGID": ["yes"],
    "LockPersonality": ["yes"],
    "MemoryDenyWriteExecute": ["yes"],
    "SystemCallArchitectures": ["native"],
    "SystemCallFilter": ["@system-service"],
    "CapabilityBoundingSet": [""],
}


def full(path):
    """A configured install directory as an absolute path."""
    return path if os.path.isabs(path) else os.path.join(PREFIX, path)


def sysconfdir_relative():
    """Where the config goes, as the build gives it to install(): relative
    to the prefix when the configured sysconfdir lies under it (the default
    prefix /usr/local), absolute when not (/etc for the prefix /usr)."""
    if FULL_SYSCONFDIR.startswith(PREFIX.rstrip("/") + "/"):
        return FULL_SYSCONFDIR[len(PREFIX.rstrip("/")) + 1:]
    return FULL_SYSCONFDIR


def install(prefix=None, destdir=None):
    """Runs cmake --install on the build tree; returns its output."""
    argv = [CMAKE, "--install", BUILD]
    if prefix is not None:
        argv += ["--prefix", prefix]
    env = dict(os.environ)
    env.pop("DESTDIR", None)
    if destdir is not None:
        env["DESTDIR"] = destdir
    p = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=120)
    if p.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} exited {p.returncode}:\n{p.stdout.decode()}{p.stderr.decode()}")
    return p.stdout.decode()


def files_under(root):
    """Every file under root, as paths relative to it."""
    found = set()
    for dirpath, _, names in os.walk(root):
        for name in names:
            found.add(os.path.relpath(os.path.join(dirpath, name), root))
    return found


def unit_settings(text):
    """The unit file's [Service] settings: name -> values in order."""
    settings, section = {}, None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            section = line
            continue
        if section == "[Service]":
            name, _, value = line.partition("=")
            settings.setdefault(name, []).append(value)
    return settings


def server_help(server):
    p = subprocess.run([server, "--help"], stdin=subprocess.DEVNULL, capture_output=True, timeout=10)
    assert p.returncode == 0, p
    return p.stdout.decode()


def help_options(text):
    """evkv-server --help's long options: name -> the default its help
    text states as "(default X" (None when it states none that way)."""
    options, name = {}, None
    for line in text.splitlines():
        m = re.match(r"^  (?:-\w, |    )--([a-z][a-z-]*)", line)
        if m:
            name = m.group(1)
            options[name] = None
        elif not line.startswith("   "):
            name = None  # the end of the option list or of an option's text
        if name and options[name] is None:
            d = re.search(r"\(default ([^\s;,)]+)", line)
            if d:
                options[name] = d.group(1)
    return options


class InstallTest(unittest.TestCase):
    maxDiff = 4000

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="evkv-install-")
        # The packaging way: the configured prefix, staged under DESTDIR.
        cls.stage = os.path.join(cls.tmp, "stage")
        install(destdir=cls.stage)
        cls.bindir = cls.stage + full(BINDIR)
        cls.conf = cls.stage + os.path.join(FULL_SYSCONFDIR, "evkv", "evkv.conf")
        # Another prefix at install time, when every file goes under it.
        cls.confdir = sysconfdir_relative()
        cls.outside = [d for d in (BINDIR, MANDIR, UNITDIR, cls.confdir) if os.path.isabs(d)]
        cls.prefix = os.path.join(cls.tmp, "prefix")
        if not cls.outside:
            install(prefix=cls.prefix)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def need_prefix_install(self):
        if self.outside:
            self.skipTest(f"configured to install in {', '.join(self.outside)}, outside the prefix: "
                          "cmake --install --prefix would write there")

    def expected_files(self):
        files = {os.path.join(BINDIR, p) for p in PROGRAMS}
        files.add(os.path.join(UNITDIR, "evkv-server.service"))
        files.add(os.path.join(self.confdir, "evkv", "evkv.conf"))
        if HELP2MAN:
            files |= {os.path.join(MANDIR, "man1", p + ".1") for p in PROGRAMS}
        return files

    def test_files(self):
        self.need_prefix_install()
        self.assertEqual(files_under(self.prefix), self.expected_files())
        for rel in self.expected_files():
            mode = stat.S_IMODE(os.stat(os.path.join(self.prefix, rel)).st_mode)
            want = 0o755 if rel.startswith(BINDIR + os.sep) else 0o644
            self.assertEqual(oct(mode), oct(want), rel)

    def test_default_layout(self):
        """With the default layout, the paths docs/operations.md gives."""
        if (PREFIX, BINDIR, MANDIR, UNITDIR) != ("/usr/local", "bin", "share/man", "lib/systemd/system") or \
                FULL_SYSCONFDIR != "/usr/local/etc":
            self.skipTest("configured with another layout")
        self.need_prefix_install()
        want = {"bin/evkv-server", "bin/evkv-cli", "bin/evkv-bench", "lib/systemd/system/evkv-server.service",
                "etc/evkv/evkv.conf"}
        if HELP2MAN:
            want |= {"share/man/man1/evkv-server.1", "share/man/man1/evkv-cli.1", "share/man/man1/evkv-bench.1"}
        self.assertEqual(files_under(self.prefix), want)

    def test_programs_run(self):
        for prog in PROGRAMS:
            with self.subTest(prog=prog):
                p = subprocess.run([os.path.join(self.bindir, prog), "--version"],
                                   stdin=subprocess.DEVNULL, capture_output=True, timeout=10)
                self.assertEqual((p.returncode, p.stdout.decode(), p.stderr.decode()),
                                 (0, f"{prog} {VERSION}\n", ""))

    def check_unit(self, path, bindir, conf):
        with open(path) as f:
            text = f.read()
        self.assertNotRegex(text, r"@\w+@", "a placeholder was left unconfigured")
        settings = unit_settings(text)
        server = os.path.join(bindir, "evkv-server")
        self.assertEqual(settings.pop("ExecStart"), [f"{server} -c {conf}"])
        self.assertEqual(settings.pop("ExecReload"), [f"{server} --check-config -c {conf}",
                                                      "/bin/kill -HUP $MAINPID"])
        self.assertEqual(settings, UNIT_SERVICE)
        self.assertRegex(text, r"(?m)^\[Install\]\nWantedBy=multi-user\.target$")

    def test_unit(self):
        """The unit names the programs and config of this install's prefix."""
        self.need_prefix_install()
        unit = os.path.join(self.prefix, UNITDIR, "evkv-server.service")
        self.check_unit(unit, os.path.join(self.prefix, BINDIR),
                        os.path.join(self.prefix, self.confdir, "evkv", "evkv.conf"))

    def test_destdir(self):
        """Under DESTDIR, files go below it, and the unit names them as
        they will be once the tree is moved to / (DESTDIR left out)."""
        conf = os.path.join(FULL_SYSCONFDIR, "evkv", "evkv.conf")
        want = {os.path.join(full(BINDIR), p) for p in PROGRAMS}
        want |= {os.path.join(full(UNITDIR), "evkv-server.service"), conf}
        if HELP2MAN:
            want |= {os.path.join(full(MANDIR), "man1", p + ".1") for p in PROGRAMS}
        self.assertEqual({"/" + f for f in files_under(self.stage)}, want)
        self.check_unit(self.stage + os.path.join(full(UNITDIR), "evkv-server.service"), full(BINDIR), conf)

    def test_config(self):
        with open(self.conf) as f:
            lines = [line.rstrip("\n") for line in f]
        self.assertEqual([line for line in lines if line and not line.startswith("#")], CONFIG_SET)
        self.assertIn("# data /var/lib/evkv/data.tsv", lines)
        options = help_options(server_help(os.path.join(self.bindir, "evkv-server")))
        self.assertIn("max-header", options)  # the parse found the options
        for name in CONFIG_MORE:
            options.setdefault(name, None)
        for name, default in options.items():
            if name in NOT_IN_CONFIG:
                continue
            with self.subTest(option=name):
                found = [line for line in lines if re.match(rf"^(# )?{re.escape(name)} \S", line)]
                self.assertEqual(len(found), 1, f"one line for {name} in evkv.conf, commented or not")
                if default is not None and not found[0].startswith(name):
                    self.assertEqual(found[0], f"# {name} {default}", "a commented option shows its default")

    def test_config_checks(self):
        """The sample config, as installed, passes --check-config."""
        server = os.path.join(self.bindir, "evkv-server")
        if "--check-config" not in server_help(server):
            self.skipTest("this evkv-server has no --check-config")
        p = subprocess.run([server, "--check-config", "-c", self.conf], stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        self.assertIn("configuration OK", p.stdout.decode())

    def test_man_pages(self):
        if not HELP2MAN:
            self.skipTest("help2man was not found when configuring: no man pages are built (apt-get install help2man)")
        for prog in PROGRAMS:
            with self.subTest(prog=prog):
                with open(self.stage + os.path.join(full(MANDIR), "man1", prog + ".1")) as f:
                    lines = [line for line in f.read().splitlines() if not line.startswith('.\\"')]
                self.assertRegex(lines[0], rf'^\.TH {prog.upper()} "1" "[^"]+" "{prog} {re.escape(VERSION)}" '
                                           r'"User Commands"$')
                self.assertEqual(lines[1], ".SH NAME")
                self.assertRegex(lines[2], rf"^{prog} \\- \S")
                self.assertIn(".SH SYNOPSIS", lines)
                self.assertIn(".SH DESCRIPTION", lines)
                self.assertTrue(any(line.startswith(r"\fB\-V\fR, \fB\-\-version\fR") for line in lines),
                                "the options are laid out as options")
                # The sections of the --include file and EXIT STATUS, in
                # man-pages(7)'s order, each once.
                sections = [line for line in lines if line.startswith(".SH ")]
                want = ['.SH "EXIT STATUS"', ".SH ENVIRONMENT", ".SH FILES", ".SH EXAMPLES", '.SH "SEE ALSO"']
                self.assertEqual([sec for sec in sections if sec in want], want)
                self.assertLess(sections.index(".SH DESCRIPTION"), sections.index('.SH "EXIT STATUS"'))
                self.assertNotIn('.SS "Exit status:"', lines, "exit status is a section, not a subsection")
                text = "\n".join(lines)
                self.assertNotIn("`", text, "no literal backtick")
                self.assertNotRegex(text, r"@\w+@", "a placeholder was left unconfigured")
                self.assertIn(".BR %s (1)" % [p for p in PROGRAMS if p != prog][0], text.split('.SH "SEE ALSO"')[1])
                body = text.split(".SH EXAMPLES")[1]
                self.assertIn(".B %s" % prog, body, "the examples run the program")
        with open(self.stage + os.path.join(full(MANDIR), "man1", "evkv-cli.1")) as f:
            cli = f.read()
        self.assertIn(".B EVKV_HISTFILE", cli.split(".SH ENVIRONMENT")[1].split(".SH ")[0])
        self.assertIn("~/.evkv_history", cli.split(".SH FILES")[1].split(".SH ")[0])
        # -u's URI forms: one list item each, not filled into one paragraph.
        uri = cli.split(r"\fB\-u\fR, \fB\-\-uri\fR")[1].split(".TP")[0]
        items = re.findall(r"(?m)^\.IP \\\(bu 2\n(\S+)", uri)
        self.assertTrue(any(i.startswith("evkv://") for i in items), uri)
        self.assertTrue(any(i.startswith(("evkv+unix:", "unix:")) for i in items), uri)
        with open(self.stage + os.path.join(full(MANDIR), "man1", "evkv-server.1")) as f:
            server = f.read()
        self.assertIn(".I " + os.path.join(FULL_SYSCONFDIR, "evkv", "evkv.conf"),
                      server.split(".SH FILES")[1].split(".SH ")[0])


SOURCE = os.path.join(HERE, "..", "..")
README_MAX_LINES = 300


def markdown_text(path):
    """The text of a Markdown file without its code: links in fenced blocks
    and inline code are examples, not links."""
    with open(path, encoding="utf-8") as f:
        text = re.sub(r"^```.*?^```", "", f.read(), flags=re.M | re.S)
    return re.sub(r"`[^`\n]*`", "", text)


def heading_anchors(path):
    """The anchors GitHub makes of a Markdown file's headings."""
    anchors = set()
    for line in markdown_text(path).splitlines():
        m = re.match(r"#{1,6} (.*)", line)
        if m:
            anchors.add(re.sub(r"[^\w\- ]", "", m.group(1).strip().lower()).replace(" ", "-"))
    return anchors


class DocsTest(unittest.TestCase):

    def pages(self):
        docs = os.path.join(SOURCE, "docs")
        pages = [os.path.join(SOURCE, "README.md"), os.path.join(SOURCE, "proto", "PROTOCOL.md")]
        pages += sorted(os.path.join(docs, n) for n in os.listdir(docs) if n.endswith(".md"))
        return pages

    def test_readme_is_short(self):
        with open(os.path.join(SOURCE, "README.md"), encoding="utf-8") as f:
            n = len(f.read().splitlines())
        self.assertLess(n, README_MAX_LINES, "README.md: move reference text to a page of docs/")

    def test_relative_links_resolve(self):
        links = 0
        for page in self.pages():
            for target in re.findall(r"\]\(([^)\s]+)\)", markdown_text(page)):
                if re.match(r"[a-z][a-z0-9+.-]*:", target):
                    continue  # https:, mailto:: not a file of the tree
                links += 1
                path, _, anchor = target.partition("#")
                full = os.path.normpath(os.path.join(os.path.dirname(page), path)) if path else page
                where = f"{os.path.relpath(page, SOURCE)}: ({target})"
                self.assertTrue(os.path.exists(full), f"{where}: no such file")
                if anchor:
                    self.assertIn(anchor, heading_anchors(full), f"{where}: no such heading")
        self.assertGreater(links, 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
