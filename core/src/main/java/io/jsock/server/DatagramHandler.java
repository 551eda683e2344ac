package io.jsock.server;

import io.jsock.Datagram;
import io.jsock.Socket;

/**
 * What a {@link UdpServer} does with one datagram, on a virtual thread of its own: reply (if at
 * all) with {@code socket.sendTo(reply, datagram.address())}.
 *
 * <pre>{@code
 * DatagramHandler echo = (datagram, socket) -> socket.sendTo(datagram.data(), datagram.address());
 * }</pre>
 *
 * <p>An exception ends the handling of this datagram only: the server logs it once, with the
 * sender's address, and keeps serving.
 */
@FunctionalInterface
public interface DatagramHandler {
  /**
   * Handles one datagram.
   *
   * @param datagram the datagram and its sender's address
   * @param socket the server's socket, shared by every handler: use it to reply, never close it
   * @throws Exception anything: it is logged, and ends the handling of this datagram only
   */
  void handle(Datagram datagram, Socket socket) throws Exception;
}
