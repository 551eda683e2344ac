package io.jsock.server;

import io.jsock.Socket;

/**
 * What a {@link TcpServer} does with one connection, on the connection's own virtual thread: plain
 * blocking code, as Python's {@code socketserver.BaseRequestHandler.handle}.
 *
 * <pre>{@code
 * ConnectionHandler echo = conn -> {
 *   byte[] buf = new byte[64 * 1024];
 *   int n;
 *   while ((n = conn.recvInto(buf, 0)) > 0) {
 *     conn.sendAll(ByteBuffer.wrap(buf, 0, n));
 *   }
 * };
 * }</pre>
 *
 * <p>The socket arrives in timeout mode with {@link ServerConfig#idleTimeout()}; the server closes
 * it when the handler returns or throws (or the TLS socket a STARTTLS handler made of it with
 * {@link io.jsock.tls.TlsContext#wrap(Socket)}), so the handler need not. An exception ends this
 * connection only: the server logs it once, with the peer's address, and keeps serving.
 */
@FunctionalInterface
public interface ConnectionHandler {
  /**
   * Serves one connection.
   *
   * @param conn the connected socket; closed by the server afterwards
   * @throws Exception anything: it is logged, and ends this connection only
   */
  void handle(Socket conn) throws Exception;
}
