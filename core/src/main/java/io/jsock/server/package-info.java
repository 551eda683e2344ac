/**
 * A server framework in the spirit of Python's {@code socketserver}: {@link
 * io.jsock.server.TcpServer} and {@link io.jsock.server.UdpServer} run a handler written with plain
 * blocking jsock calls on one virtual thread per connection (or datagram), with limits and timeouts
 * as named configuration ({@link io.jsock.server.ServerConfig}), live statistics ({@link
 * io.jsock.server.ServerStats}) and a graceful shutdown.
 *
 * <pre>{@code
 * TcpServer server = TcpServer.start(ServerConfig.defaults().withAddress("localhost", 12345),
 *     conn -> {
 *       byte[] buf = new byte[64 * 1024];
 *       int n;
 *       while ((n = conn.recvInto(buf, 0)) > 0) {
 *         conn.sendAll(ByteBuffer.wrap(buf, 0, n));
 *       }
 *     });
 * }</pre>
 */
package io.jsock.server;
