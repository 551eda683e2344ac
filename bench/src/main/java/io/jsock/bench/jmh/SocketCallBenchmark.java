package io.jsock.bench.jmh;

import io.jsock.Socket;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What one call of jsock's {@code sendAll}, {@code recvInto} and {@code recv} costs over a loopback
 * TCP connection, beside the same call on a raw blocking {@link SocketChannel} (the floor jsock
 * builds on). The peer is a platform thread on a raw channel: a sink for sends (never waits), a
 * source for receives (bytes always waiting), an echo for round trips.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(
    value = 1,
    jvmArgsAppend = {
      "--enable-native-access=ALL-UNNAMED",
      "--add-exports=java.base/sun.nio.ch=ALL-UNNAMED"
    })
public class SocketCallBenchmark {
  /** A jsock socket and a raw channel, each connected to its own peer in one role. */
  @State(Scope.Thread)
  public abstract static class Connections {
    @Param({"64", "4096"})
    public int size;

    LoopbackPeer jsockPeer;
    LoopbackPeer channelPeer;
    Socket socket;
    SocketChannel channel;
    ByteBuffer buffer;
    byte[] array;

    abstract LoopbackPeer.Role role();

    @Setup(Level.Trial)
    public void open() throws IOException {
      jsockPeer = LoopbackPeer.start(role());
      channelPeer = LoopbackPeer.start(role());
      socket = jsockPeer.connectJsock();
      channel = channelPeer.connectChannel();
      buffer = ByteBuffer.allocateDirect(size);
      array = new byte[size];
    }

    @TearDown(Level.Trial)
    public void close() throws Exception {
      socket.close();
      channel.close();
      jsockPeer.close();
      channelPeer.close();
    }
  }

  /** Connections to a peer that drops what it reads. */
  public static class ToSink extends Connections {
    @Override
    LoopbackPeer.Role role() {
      return LoopbackPeer.Role.SINK;
    }
  }

  /** Connections to a peer that writes without end. */
  public static class FromSource extends Connections {
    @Override
    LoopbackPeer.Role role() {
      return LoopbackPeer.Role.SOURCE;
    }
  }

  /** Connections to an echo peer. */
  public static class ToEcho extends Connections {
    @Override
    LoopbackPeer.Role role() {
      return LoopbackPeer.Role.ECHO;
    }
  }

  @Benchmark
  public void sendAllJsock(ToSink c) throws IOException {
    c.socket.sendAll(c.buffer.clear());
  }

  @Benchmark
  public void sendAllArrayJsock(ToSink c) throws IOException {
    c.socket.sendAll(c.array); // a heap array, as a Python program sends bytes
  }

  @Benchmark
  public void sendAllChannel(ToSink c) throws IOException {
    ByteBuffer b = c.buffer.clear();
    while (b.hasRemaining()) {
      c.channel.write(b);
    }
  }

  @Benchmark
  public int recvIntoJsock(FromSource c) throws IOException {
    return c.socket.recvInto(c.buffer.clear());
  }

  @Benchmark
  public byte[] recvJsock(FromSource c) throws IOException {
    return c.socket.recv(c.size); // allocates the array it returns, as Python's recv does
  }

  @Benchmark
  public int recvIntoArrayJsock(FromSource c) throws IOException {
    return c.socket.recvInto(c.array, 0);
  }

  @Benchmark
  public int readChannel(FromSource c) throws IOException {
    return c.channel.read(c.buffer.clear());
  }

  /**
   * A round trip: the receive finds nothing yet and must wait until the peer has echoed, so this is
   * the readiness wait (jsock parks on its poller; the raw channel blocks in read).
   */
  @Benchmark
  public int roundTripJsock(ToEcho c) throws IOException {
    c.socket.sendAll(c.buffer.clear());
    int got = 0;
    while (got < c.size) {
      got += c.socket.recvInto(c.buffer.clear().limit(c.size - got));
    }
    return got;
  }

  @Benchmark
  public int roundTripChannel(ToEcho c) throws IOException {
    ByteBuffer b = c.buffer.clear();
    while (b.hasRemaining()) {
      c.channel.write(b);
    }
    int got = 0;
    while (got < c.size) {
      got += c.channel.read(c.buffer.clear().limit(c.size - got));
    }
    return got;
  }
}
