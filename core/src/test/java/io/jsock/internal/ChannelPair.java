package io.jsock.internal;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;

/** A connected pair of JDK TCP channels over loopback, ours non-blocking, for calls on an fd. */
record ChannelPair(SocketChannel ours, SocketChannel peer) implements AutoCloseable {
  static ChannelPair open() throws IOException {
    try (ServerSocketChannel listener = ServerSocketChannel.open()) {
      listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      SocketChannel ours = SocketChannel.open(listener.getLocalAddress());
      SocketChannel peer = listener.accept();
      ours.configureBlocking(false);
      return new ChannelPair(ours, peer);
    }
  }

  @Override
  public void close() throws IOException {
    ours.close();
    peer.close();
  }
}
