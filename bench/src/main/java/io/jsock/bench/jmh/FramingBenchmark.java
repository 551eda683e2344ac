package io.jsock.bench.jmh;

import io.jsock.Socket;
import io.jsock.Sockets;
import io.jsock.framing.Framed;
import io.jsock.framing.Framing;
import io.jsock.framing.Framing.Prefix;
import java.io.IOException;
import java.util.Arrays;
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
 * Message framing's encode and decode ({@link Framed#sendMsg} then {@link Framed#recvMsg}) over an
 * AF_UNIX socket pair, one thread doing both: the message fits the socket's buffer, so neither call
 * waits, and what is measured is the framing plus one send and one receive system call. {@code
 * rawPair} is the same two calls without framing, the floor to compare with.
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
@State(Scope.Thread)
public class FramingBenchmark {
  @Param({"U32", "VARINT", "LINES"})
  public String framing;

  @Param({"64", "4096"})
  public int size;

  private Socket[] pair;
  private Framed sender;
  private Framed receiver;
  private byte[] message;
  private byte[] buffer;

  @Setup(Level.Trial)
  public void open() throws IOException {
    pair = Sockets.socketPair();
    Framing chosen =
        switch (framing) {
          case "U32" -> Framing.lengthPrefixed(Prefix.U32, 1 << 20);
          case "VARINT" -> Framing.lengthPrefixed(Prefix.VARINT, 1 << 20);
          default -> Framing.lines(1 << 20);
        };
    sender = chosen.on(pair[0]);
    receiver = chosen.on(pair[1]);
    message = new byte[size];
    Arrays.fill(message, (byte) 'x'); // no line end inside: valid for every framing
    buffer = new byte[size];
  }

  @TearDown(Level.Trial)
  public void close() throws IOException {
    pair[0].close();
    pair[1].close();
  }

  @Benchmark
  public byte[] sendMsgRecvMsg() throws IOException {
    sender.sendMsg(message);
    return receiver.recvMsg();
  }

  @Benchmark
  public int rawPair() throws IOException {
    pair[0].sendAll(message);
    int got = 0;
    while (got < size) {
      got += pair[1].recvInto(buffer, size - got);
    }
    return got;
  }
}
