package io.jsock.bench.jmh;

import io.jsock.Socket;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;

/**
 * The other end of a benchmark's loopback connection: a platform thread on a raw blocking {@link
 * SocketChannel} that echoes, discards, or streams, so that the peer's cost is the same whichever
 * client (jsock's {@link Socket} or a raw channel) is measured.
 */
final class LoopbackPeer implements AutoCloseable {
  /** What the peer does with the connection. */
  enum Role {
    /** Sends back what it receives. */
    ECHO,
    /** Reads and drops everything: a sender never waits for it. */
    SINK,
    /** Writes without end: a receiver always finds bytes waiting. */
    SOURCE
  }

  private final ServerSocketChannel listener;
  private final Thread thread;
  private volatile SocketChannel accepted;

  private LoopbackPeer(Role role) throws IOException {
    listener = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
    thread =
        Thread.ofPlatform()
            .daemon()
            .name("loopback peer " + role)
            .start(
                () -> {
                  try (SocketChannel channel = listener.accept()) {
                    accepted = channel;
                    channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
                    serve(role, channel);
                  } catch (IOException closed) {
                    // the benchmark closed the connection: the peer is done
                  }
                });
  }

  static LoopbackPeer start(Role role) throws IOException {
    return new LoopbackPeer(role);
  }

  InetSocketAddress address() throws IOException {
    return (InetSocketAddress) listener.getLocalAddress();
  }

  /** A jsock socket connected to this peer, blocking, with TCP_NODELAY. */
  Socket connectJsock() throws IOException {
    Socket socket = Socket.create();
    socket.connect(address());
    socket.setSockOpt(StandardSocketOptions.TCP_NODELAY, true);
    return socket;
  }

  /** A raw blocking channel connected to this peer, with TCP_NODELAY. */
  SocketChannel connectChannel() throws IOException {
    SocketChannel channel = SocketChannel.open(address());
    channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
    return channel;
  }

  private static void serve(Role role, SocketChannel channel) throws IOException {
    ByteBuffer buf = ByteBuffer.allocateDirect(64 * 1024);
    switch (role) {
      case ECHO -> {
        while (channel.read(buf.clear()) > 0) {
          buf.flip();
          while (buf.hasRemaining()) {
            channel.write(buf);
          }
        }
      }
      case SINK -> {
        while (channel.read(buf.clear()) > 0) {
          // dropped
        }
      }
      case SOURCE -> {
        while (true) {
          channel.write(buf.clear());
        }
      }
    }
  }

  @Override
  public void close() throws IOException, InterruptedException {
    listener.close();
    SocketChannel channel = accepted;
    if (channel != null) {
      channel.close();
    }
    thread.join(1000);
  }
}
