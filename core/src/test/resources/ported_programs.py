"""The Python originals of PortedProgramsTest: five small socket programs, each as a server and a
client, run against their jsock ports on loopback.

    python3 ported_programs.py PROGRAM ROLE ARGS...

A server prints one line once it listens (its port, or "ready"), serves a bounded number of
connections or datagrams, and exits; a client prints what it received, one repr() per line. Every
wait is bounded: a socket timeout, or a count of attempts.
"""

import os
import selectors
import socket
import socketserver
import ssl
import sys

LIMIT = 30.0  # seconds any single wait may take before the program gives up


def say(*args):
    print(*args, flush=True)


# (1) docs.python.org/3/library/selectors.html, "Examples", with a bounded loop and port 0
def selectors_server(clients):
    sel = selectors.DefaultSelector()
    closed = 0

    def accept(sock, mask):
        conn, addr = sock.accept()  # Should be ready
        conn.setblocking(False)
        sel.register(conn, selectors.EVENT_READ, read)

    def read(conn, mask):
        nonlocal closed
        data = conn.recv(1000)  # Should be ready
        if data:
            conn.send(data)  # Hope it won't block
        else:
            sel.unregister(conn)
            conn.close()
            closed += 1

    sock = socket.socket()
    sock.bind(("localhost", 0))
    sock.listen(100)
    sock.setblocking(False)
    sel.register(sock, selectors.EVENT_READ, accept)
    say(sock.getsockname()[1])
    while closed < int(clients):
        events = sel.select(LIMIT)
        if not events:
            sys.exit("no event within %s s" % LIMIT)
        for key, mask in events:
            callback = key.data
            callback(key.fileobj, mask)


def selectors_client(port, *messages):
    with socket.create_connection(("localhost", int(port)), timeout=LIMIT) as s:
        for m in messages:
            s.sendall(m.encode())
            got = b""
            while len(got) < len(m.encode()):
                chunk = s.recv(1000)
                if not chunk:
                    break
                got += chunk
            say(repr(got))


# (2) a UDP time service: the server drops the first request it gets (a lost datagram), then
# answers "time" with the clock it was given, until the client says "done"; the client retries on
# TimeoutError
def time_server(clock):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(LIMIT)
    say(s.getsockname()[1])
    for i in range(10):
        data, addr = s.recvfrom(1024)
        if data == b"done":
            break
        if i == 0:
            continue  # lost
        s.sendto(b"%s %s" % (data, clock.encode()), addr)
    s.close()


def time_client(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.5)
    for attempt in range(1, 6):
        s.sendto(b"time", ("127.0.0.1", int(port)))
        try:
            data, server = s.recvfrom(1024)
        except TimeoutError:
            say("timeout", attempt)
            continue
        say(repr(data), attempt)
        break
    s.sendto(b"done", ("127.0.0.1", int(port)))
    s.close()


# (3) an AF_UNIX server that unlinks its path first, and hands each request to a child over a
# socketpair(); the child answers in upper case
def unix_server(path, requests):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    parent, child = socket.socketpair()
    pid = os.fork()
    if pid == 0:
        parent.close()
        srv.close()
        while data := child.recv(1024):
            child.sendall(data.upper())
        os._exit(0)
    child.close()
    say("ready")
    srv.settimeout(LIMIT)
    conn, _ = srv.accept()
    conn.settimeout(LIMIT)
    for _ in range(int(requests)):
        data = conn.recv(1024)
        if not data:
            break
        parent.sendall(data)
        conn.sendall(parent.recv(1024))
    conn.close()
    parent.close()
    os.waitpid(pid, 0)
    srv.close()
    os.unlink(path)


def unix_client(path, *messages):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(LIMIT)
        s.connect(path)
        for m in messages:
            s.sendall(m.encode())
            say(repr(s.recv(1024)))


# (4) TLS: an ssl.create_default_context() client, and a ThreadingTCPServer behind TLS whose
# StreamRequestHandler answers each line in upper case
class UpperHandler(socketserver.StreamRequestHandler):
    timeout = LIMIT

    def handle(self):
        for line in self.rfile:
            self.wfile.write(line.upper())


def tls_server(cert, key, connections):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), UpperHandler) as server:
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
        server.timeout = LIMIT
        say(server.server_address[1])
        for _ in range(int(connections)):
            server.handle_request()
        server.server_close()  # joins the handler threads


def tls_client(cafile, port, *lines):
    ctx = ssl.create_default_context(cafile=cafile)
    with socket.create_connection(("localhost", int(port)), timeout=LIMIT) as sock:
        with ctx.wrap_socket(sock, server_hostname="localhost") as ssock:
            say(ssock.version())
            f = ssock.makefile("rwb")
            for line in lines:
                f.write(line.encode() + b"\n")
                f.flush()
                say(repr(f.readline()))


# (5) socket.create_connection + makefile('rwb') + readline(): a line protocol whose server
# answers "LEN n" for each line, and "BYE" to "QUIT"
def lines_server(connections):
    srv = socket.create_server(("127.0.0.1", 0))
    srv.settimeout(LIMIT)
    say(srv.getsockname()[1])
    for _ in range(int(connections)):
        conn, _ = srv.accept()
        conn.settimeout(LIMIT)
        with conn, conn.makefile("rwb") as f:
            while line := f.readline():
                if line.rstrip(b"\r\n") == b"QUIT":
                    f.write(b"BYE\n")
                    f.flush()
                    break
                f.write(b"LEN %d\n" % len(line.rstrip(b"\r\n")))
                f.flush()
    srv.close()


def lines_client(port, *lines):
    with socket.create_connection(("127.0.0.1", int(port)), timeout=LIMIT) as s:
        f = s.makefile("rwb")
        for line in lines + ("QUIT",):
            f.write(line.encode() + b"\n")
            f.flush()
            say(repr(f.readline()))
        say(repr(f.readline()))  # b'' once the server has closed


if __name__ == "__main__":
    globals()[sys.argv[1] + "_" + sys.argv[2]](*sys.argv[3:])
