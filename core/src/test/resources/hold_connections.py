# Test peer for IdleSocketsTest: opens N connections to HOST:PORT and holds them, so that the JVM
# under test holds only its own side (the open-file limit is per process). Prints "connected" when
# all are up; on a line "send" from stdin sends one byte on each; exits at end of stdin.
import socket
import sys

host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
conns = [socket.create_connection((host, port)) for _ in range(count)]
print("connected", flush=True)
for line in sys.stdin:
    if line.strip() == "send":
        for conn in conns:
            conn.sendall(b"*")
        print("sent", flush=True)
for conn in conns:
    conn.close()
