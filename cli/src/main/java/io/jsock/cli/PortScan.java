package io.jsock.cli;

import io.jsock.AddressInUseException;
import io.jsock.Errno;
import io.jsock.Socket;
import io.jsock.SocketError;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.List;

/**
 * {@code connect -z}: tries each port in turn, one at a time, and says with {@code -v} how each
 * went, one line per port: {@code connect to 127.0.0.1:22: succeeded (TCP)}, or the failure as
 * {@code connect} reports it. The exit code is 0 when any port succeeded (as OpenBSD nc's),
 * otherwise the last failure's (3 refused, 4 timed out, 5 TLS).
 */
final class PortScan {
  /** The wait for a UDP port's refusal when {@code -w} gives none. */
  static final Duration UDP_WAIT = Duration.ofSeconds(1);

  /** One port's check: connects, closes, and returns the peer's address. */
  @FunctionalInterface
  interface Check {
    SocketAddress connectAndClose(int port) throws IOException;
  }

  private PortScan() {}

  /**
   * Checks {@code ports} in order; {@code transport} names the transport for the lines ({@code
   * TCP}). A failure that would fail every port alike (the source address in use or not local, an
   * interrupt) ends the scan with that failure.
   */
  static int run(List<Integer> ports, Check check, Diagnostics diagnostics, String transport)
      throws IOException {
    boolean anySucceeded = false;
    IOException last = null;
    for (int port : ports) {
      try {
        SocketAddress peer = check.connectAndClose(port);
        diagnostics.event(
            "connect to " + Diagnostics.where(peer) + ": succeeded (" + transport + ")");
        anySucceeded = true;
      } catch (IOException e) {
        if (endsTheScan(e)) {
          throw e;
        }
        diagnostics.event(e.getMessage());
        last = e;
      }
    }
    return anySucceeded ? ExitCode.OK.code() : Failures.exitCode(last).code();
  }

  /**
   * Waits up to {@code wait} for a UDP port to refuse what is sent to it: one zero byte, as ncat
   * sends. Only an ICMP port unreachable tells: a reply, or silence (a port open or filtered), is
   * taken as success, as nc and ncat take it.
   */
  static void probeUdp(Socket conn, Duration wait) throws IOException {
    conn.sendAll(new byte[1]);
    conn.setTimeout(wait);
    try {
      conn.recv(1);
    } catch (SocketTimeoutException silent) {
      // no refusal came: open, or a firewall drops it
    }
  }

  private static boolean endsTheScan(IOException e) {
    return e instanceof AddressInUseException
        || (e instanceof SocketError error && error.errno() == Errno.EADDRNOTAVAIL)
        || (e instanceof InterruptedIOException && !(e instanceof SocketTimeoutException));
  }
}
