package io.jsock.cli;

import io.jsock.Family;
import io.jsock.Socket;
import io.jsock.SocketKind;
import io.jsock.tls.TlsContext;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A loopback TCP (or AF_UNIX) server of the integration tests: one virtual thread per connection
 * running the test's handler, whose result (or failure) the test takes with {@link #nextResult()}.
 */
final class TinyServer implements AutoCloseable {
  /** What the server does with one connection; what it returns is the test's to check. */
  interface Handler {
    Object handle(Socket conn) throws Exception;
  }

  private final Socket listener;
  private final BlockingQueue<Object> results = new LinkedBlockingQueue<>();

  private TinyServer(Socket listener, Handler handler, TlsContext tls) {
    this.listener = listener;
    Thread.ofVirtual().start(() -> acceptLoop(handler, tls));
  }

  static TinyServer start(Handler handler) throws IOException {
    return start(handler, null);
  }

  /** A server on 127.0.0.1 and a free port; TLS when {@code tls} is a server context. */
  static TinyServer start(Handler handler, TlsContext tls) throws IOException {
    Socket listener = Socket.create(Family.AF_INET, SocketKind.SOCK_STREAM);
    listener.bind("127.0.0.1", 0);
    listener.listen(16);
    return new TinyServer(listener, handler, tls);
  }

  /** A server on the AF_UNIX stream socket {@code path}. */
  static TinyServer startOnUnix(Path path, Handler handler) throws IOException {
    Socket listener = Socket.create(Family.AF_UNIX, SocketKind.SOCK_STREAM);
    listener.bind(UnixDomainSocketAddress.of(path));
    listener.listen(16);
    return new TinyServer(listener, handler, null);
  }

  int port() throws IOException {
    return ((InetSocketAddress) listener.getSockName()).getPort();
  }

  /** The next connection's result: what its handler returned, or the exception it threw. */
  Object nextResult() throws InterruptedException {
    Object result = results.poll(60, TimeUnit.SECONDS);
    if (result == null) {
      throw new AssertionError("no connection handled within a minute");
    }
    return result;
  }

  private void acceptLoop(Handler handler, TlsContext tls) {
    while (true) {
      Socket conn;
      try {
        conn = listener.accept().conn();
      } catch (IOException e) {
        return; // closed by the test
      }
      Thread.ofVirtual()
          .start(
              () -> {
                try (Socket served = tls == null ? conn : tls.wrap(conn)) {
                  served.setTimeout(Duration.ofSeconds(60));
                  results.add(handler.handle(served));
                } catch (Exception e) {
                  results.add(e);
                }
              });
    }
  }

  @Override
  public void close() throws IOException {
    listener.close();
  }
}
