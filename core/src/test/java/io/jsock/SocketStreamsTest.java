package io.jsock;

import static io.jsock.testing.Running.inPlatformThread;
import static io.jsock.testing.Running.inVirtualThread;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.jsock.internal.Addresses;
import io.jsock.testing.Loopback;
import io.jsock.testing.Loopback.Pair;
import io.jsock.testing.Running;
import java.io.BufferedInputStream;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.channels.FileChannel;
import java.nio.charset.MalformedInputException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/** {@link Socket}'s file side: {@code sendFile}, {@code makeFile} and the stream views. */
class SocketStreamsTest {
  @TempDir Path dir;

  private Path randomFile(int size) throws Exception {
    byte[] data = new byte[size];
    new Random(size).nextBytes(data);
    return Files.write(dir.resolve("data-" + size), data);
  }

  private static byte[] readExactly(Socket socket, int size) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    while (out.size() < size) {
      byte[] chunk = socket.recv(size - out.size());
      if (chunk.length == 0) {
        break;
      }
      out.write(chunk);
    }
    return out.toByteArray();
  }

  private static CompletableFuture<byte[]> receiveInTheBackground(Socket socket, int size) {
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            return readExactly(socket, size);
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        },
        Executors.newVirtualThreadPerTaskExecutor());
  }

  @ParameterizedTest
  @EnumSource(Family.class)
  void sendFileSendsTheRequestedSliceAndMovesTheFilePosition(Family family) throws Exception {
    Path file = randomFile(1 << 20);
    byte[] content = Files.readAllBytes(file);
    try (Pair pair = Loopback.pair(family, dir);
        FileChannel channel = FileChannel.open(file)) {
      var receiving = receiveInTheBackground(pair.server(), 500_000);

      long sent = pair.client().sendFile(channel, 1000, 500_000);

      assertThat(sent).isEqualTo(500_000);
      assertThat(channel.position()).isEqualTo(501_000);
      assertThat(receiving.get()).isEqualTo(Arrays.copyOfRange(content, 1000, 501_000));
    }
  }

  // python3: with f.seek(3), c.sendfile(f, 100, 5) past the end returns 0 and f.tell() is still 3,
  // as after an error before any byte went (sendfile seeks only when total_sent > 0)
  @Test
  void sendFileThatSendsNothingLeavesTheFilePositionWhereItWas() throws Exception {
    Path file = randomFile(10);
    try (Pair pair = Loopback.pair(Family.AF_INET);
        Socket unconnected = Socket.create();
        FileChannel channel = FileChannel.open(file)) {
      channel.position(3);

      assertThat(pair.client().sendFile(channel, 100, 5)).isZero();
      assertThat(channel.position()).isEqualTo(3);
      assertThatThrownBy(() -> unconnected.sendFile(channel, 6, 2))
          .isInstanceOf(BrokenPipeException.class);
      assertThat(channel.position()).isEqualTo(3);
      assertThat(pair.client().sendFile(channel, 6, 2)).isEqualTo(2);
      assertThat(channel.position()).isEqualTo(8);
    }
  }

  @Test
  void sendFileOfAPathSendsItAllAndACountPastTheEndStopsAtTheEnd() throws Exception {
    Path file = randomFile(300_000);
    byte[] content = Files.readAllBytes(file);
    try (Pair pair = Loopback.pair(Family.AF_INET);
        FileChannel channel = FileChannel.open(file)) {
      var receiving = receiveInTheBackground(pair.server(), 2 * content.length - 10);

      assertThat(pair.client().sendFile(file)).isEqualTo(content.length);
      assertThat(pair.client().sendFile(channel, 10, Long.MAX_VALUE))
          .isEqualTo(content.length - 10);

      byte[] received = receiving.get();
      assertThat(Arrays.copyOfRange(received, 0, content.length)).isEqualTo(content);
      assertThat(Arrays.copyOfRange(received, content.length, received.length))
          .isEqualTo(Arrays.copyOfRange(content, 10, content.length));
    }
  }

  @Test
  void sendFileInTimeoutModeIsBoundedAsAWholeWhenThePeerDoesNotRead() throws Exception {
    Path file = randomFile(64 << 20);
    try (Pair pair = Loopback.pair(Family.AF_INET);
        FileChannel channel = FileChannel.open(file)) {
      pair.client().setTimeout(Duration.ofMillis(200));
      long start = System.nanoTime();

      assertThatThrownBy(() -> pair.client().sendFile(channel, 0, Long.MAX_VALUE))
          .isExactlyInstanceOf(SocketTimeoutException.class)
          .hasMessageEndingWith(": timed out")
          .hasMessageStartingWith("sendfile to 127.0.0.1:");
      assertThat(Duration.ofNanos(System.nanoTime() - start))
          .isBetween(Duration.ofMillis(190), Duration.ofSeconds(5));
      assertThat(channel.position()).isPositive().isLessThan(64 << 20);
    }
  }

  @ParameterizedTest
  @EnumSource(Family.class)
  void sendFileInTimeoutModeSendsWhatTheSocketTakesAtOnceHoweverShortTheTimeout(Family family)
      throws Exception {
    // as Python's sendfile (settimeout(1e-9) sends a small file whole) and sendAll: the timeout
    // bounds waiting, so a send that needs no wait is never refused before it is tried
    Path file = randomFile(1000);
    byte[] content = Files.readAllBytes(file);
    try (Pair pair = Loopback.pair(family, dir);
        FileChannel channel = FileChannel.open(file)) {
      pair.client().setTimeout(Duration.ofNanos(1));

      long sent = pair.client().sendFile(channel, 0, Long.MAX_VALUE);

      assertThat(sent).isEqualTo(content.length);
      assertThat(channel.position()).isEqualTo(content.length);
      assertThat(readExactly(pair.server(), content.length)).isEqualTo(content);
    }
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void interruptingAThreadBlockedInSendFileThrowsInterruptedIoExceptionAndKeepsSocketAndFile(
      boolean virtual) throws Exception {
    Path file = randomFile(64 << 20);
    try (Pair pair = Loopback.pair(Family.AF_INET);
        FileChannel channel = FileChannel.open(file)) {
      Callable<Long> send = () -> pair.client().sendFile(channel, 0, Long.MAX_VALUE);
      Running<Long> sender = virtual ? inVirtualThread(send) : inPlatformThread(send);
      sender.awaitBlocked();

      sender.thread().interrupt();

      assertThat(sender.failure())
          .isExactlyInstanceOf(InterruptedIOException.class)
          .hasMessage(
              "sendfile to 127.0.0.1:"
                  + ((InetSocketAddress) pair.client().getPeerName()).getPort()
                  + ": interrupted");
      assertThat(pair.client().isClosed()).isFalse();
      assertThat(channel.isOpen()).isTrue();
      long sent = channel.position();
      assertThat(sent).isPositive().isLessThan(64 << 20);
      pair.client().shutdown(Shutdown.SHUT_WR);
      byte[] received = readExactly(pair.server(), 64 << 20);
      assertThat(received).isEqualTo(Arrays.copyOf(Files.readAllBytes(file), (int) sent));
    }
  }

  // as on a TLS socket: the JDK closes a FileChannel that a thread with its interrupt status set
  // reads or transfers from, so sendFile must not touch the file then
  @Test
  void sendFileOnAnInterruptedThreadThrowsInterruptedIoExceptionAndKeepsTheFile() throws Exception {
    Path file = randomFile(10);
    try (Pair pair = Loopback.pair(Family.AF_INET);
        FileChannel channel = FileChannel.open(file)) {
      Thread.currentThread().interrupt();
      try {
        assertThatThrownBy(() -> pair.client().sendFile(channel, 0, 5))
            .isExactlyInstanceOf(InterruptedIOException.class)
            .hasMessage(
                "sendfile to " + Addresses.format(pair.client().getPeerName()) + ": interrupted");
        assertThat(Thread.currentThread().isInterrupted()).isTrue();
      } finally {
        Thread.interrupted();
      }

      assertThat(channel.isOpen()).isTrue();
      assertThat(pair.client().sendFile(channel, 0, 5)).isEqualTo(5);
      assertThat(readExactly(pair.server(), 5))
          .isEqualTo(Arrays.copyOf(Files.readAllBytes(file), 5));
    }
  }

  @Test
  void sendFileChecksItsArguments() throws Exception {
    Path file = randomFile(10);
    try (Pair pair = Loopback.pair(Family.AF_INET);
        FileChannel channel = FileChannel.open(file);
        Socket udp = Socket.create(Family.AF_INET, SocketKind.SOCK_DGRAM)) {
      assertThatThrownBy(() -> pair.client().sendFile(channel, -1, 5))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("offset must not be negative: -1");
      assertThatThrownBy(() -> pair.client().sendFile(channel, 0, 0))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("count must be positive: 0");
      assertThatThrownBy(() -> pair.client().sendFile((Path) null))
          .isInstanceOf(NullPointerException.class)
          .hasMessage("file");
      assertThatThrownBy(() -> udp.sendFile(channel, 0, 5))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("sendFile needs a SOCK_STREAM socket, not SOCK_DGRAM");
    }
  }

  // python3: open(directory, "rb") raises IsADirectoryError [Errno 21] "Is a directory"; the JDK
  // opens a directory, and its transferTo failed as "sendfile to …: input/output error"
  @Test
  void sendFileOfADirectoryPathSaysItIsADirectoryAndKeepsTheSocket() throws Exception {
    try (Pair pair = Loopback.pair(Family.AF_INET)) {
      assertThatThrownBy(() -> pair.client().sendFile(dir))
          .isExactlyInstanceOf(FileSystemException.class)
          .hasMessage(dir + ": Is a directory");

      pair.client().sendAll("ok".getBytes(UTF_8));
      assertThat(pair.server().recv(10)).isEqualTo("ok".getBytes(UTF_8));
    }
  }

  // python3: c.sendfile(f) of a closed file raises ValueError "I/O operation on closed file", and
  // of one opened "wb" io.UnsupportedOperation (a ValueError) "File not open for reading"; the
  // socket stays usable
  @Test
  void sendFileRefusesAClosedFileAndOneNotOpenForReadingAndKeepsTheSocket() throws Exception {
    Path file = randomFile(10);
    try (Pair pair = Loopback.pair(Family.AF_INET)) {
      FileChannel closed = FileChannel.open(file);
      closed.close();
      assertThatThrownBy(() -> pair.client().sendFile(closed, 0, 5))
          .isExactlyInstanceOf(IllegalArgumentException.class)
          .hasMessage("file is closed");
      try (FileChannel writeOnly = FileChannel.open(file, StandardOpenOption.WRITE)) {
        assertThatThrownBy(() -> pair.client().sendFile(writeOnly, 0, 5))
            .isExactlyInstanceOf(IllegalArgumentException.class)
            .hasMessage("file is not open for reading");
        assertThat(writeOnly.position()).isZero();
      }

      assertThat(pair.client().isClosed()).isFalse();
      pair.client().sendAll("ok".getBytes(UTF_8));
      assertThat(pair.server().recv(10)).isEqualTo("ok".getBytes(UTF_8));
    }
  }

  // python3: c.sendfile(f, 100, 5) and c.sendfile(f, 10, 5) of a 10-byte file opened write-only
  // raise io.UnsupportedOperation (a ValueError) as at offset 0, not 0 bytes sent; over TLS jsock
  // refused it whatever the offset, as its javadoc promises
  @Test
  void sendFileRefusesAFileNotOpenForReadingAtOrPastItsEndToo() throws Exception {
    Path file = randomFile(10);
    try (Pair pair = Loopback.pair(Family.AF_INET);
        FileChannel writeOnly = FileChannel.open(file, StandardOpenOption.WRITE)) {
      for (long offset : new long[] {10, 100}) {
        assertThatThrownBy(() -> pair.client().sendFile(writeOnly, offset, 5))
            .isExactlyInstanceOf(IllegalArgumentException.class)
            .hasMessage("file is not open for reading");
      }
      assertThat(writeOnly.position()).isZero();
      pair.client().sendAll("ok".getBytes(UTF_8));
      assertThat(pair.server().recv(10)).isEqualTo("ok".getBytes(UTF_8));
    }
  }

  // python3: after c.shutdown(SHUT_WR), c.sendfile(f) raises BrokenPipeError (EPIPE), as c.send
  @ParameterizedTest
  @EnumSource(Family.class)
  void sendFileAfterShutdownOfTheWritingSideThrowsBrokenPipeAsSend(Family family) throws Exception {
    Path file = randomFile(10);
    try (Pair pair = Loopback.pair(family, dir);
        FileChannel channel = FileChannel.open(file)) {
      pair.client().shutdown(Shutdown.SHUT_WR);

      BrokenPipeException e =
          catchThrowableOfType(
              BrokenPipeException.class, () -> pair.client().sendFile(channel, 0, 5));

      assertThat(e)
          .hasMessage(
              "sendfile to " + Addresses.format(pair.client().getPeerName()) + ": broken pipe");
      assertThat(e.errno()).isEqualTo(Errno.EPIPE);
      assertThat(pair.client().isClosed()).isFalse();
    }
  }

  @ParameterizedTest
  @EnumSource(Family.class)
  void makeFileGivesLineReadersAndWritersInUtf8(Family family) throws Exception {
    try (Pair pair = Loopback.pair(family, dir)) {
      BufferedWriter writer = pair.client().makeFile("w");
      writer.write("héllo\nwörld\n");
      writer.flush();
      pair.client().shutdown(Shutdown.SHUT_WR);

      BufferedReader reader = pair.server().makeFile("r");
      assertThat(reader.readLine()).isEqualTo("héllo");
      assertThat(reader.readLine()).isEqualTo("wörld");
      assertThat(reader.readLine()).isNull();
      reader.close();
      writer.close();
      assertThat(pair.server().isClosed()).isFalse();
      assertThat(pair.client().isClosed()).isFalse();
    }
  }

  // python3: a closed SocketIO (makefile(buffering=0)) raises ValueError("I/O operation on closed
  // file.") on readinto and write, and the socket's data stays for the socket
  @Test
  void closedStreamViewsRefuseReadsAndWritesAndLeaveTheSocketItsData() throws Exception {
    try (Pair pair = Loopback.pair(Family.AF_INET)) {
      InputStream in = pair.server().getInputStream();
      OutputStream out = pair.server().getOutputStream();
      in.close();
      out.close();
      pair.client().sendAll("data".getBytes(UTF_8));

      assertThatThrownBy(in::read)
          .isExactlyInstanceOf(IOException.class)
          .hasMessage("recv from: I/O operation on closed file");
      assertThatThrownBy(() -> out.write(1))
          .isExactlyInstanceOf(IOException.class)
          .hasMessage("send to: I/O operation on closed file");
      assertThat(readExactly(pair.server(), 4)).isEqualTo("data".getBytes(UTF_8));
      pair.server().sendAll("reply".getBytes(UTF_8));
      assertThat(readExactly(pair.client(), 5)).isEqualTo("reply".getBytes(UTF_8));
    }
  }

  // the JDK's Socket.getInputStream().available() answers FIONREAD: the bytes queued, 0 once they
  // are read, and 0 at the end of the stream
  @ParameterizedTest
  @EnumSource(Family.class)
  void availableCountsTheQueuedBytesAndIsZeroOnceTheyAreReadAndAtTheEnd(Family family)
      throws Exception {
    try (Pair pair = Loopback.pair(family, dir)) {
      InputStream in = pair.server().getInputStream();
      assertThat(in.available()).isZero();

      pair.client().sendAll("hello".getBytes(UTF_8));
      pair.server().recvFrom(0); // waits until the bytes are queued, taking none
      assertThat(in.available()).isBetween(1, 5);
      assertThat(in.readNBytes(5)).isEqualTo("hello".getBytes(UTF_8));
      assertThat(in.available()).isZero();

      pair.client().shutdown(Shutdown.SHUT_WR);
      pair.server().recvFrom(0); // waits until the end of the stream is there
      assertThat(in.available()).isZero();
      assertThat(in.read()).isEqualTo(-1);
      assertThat(in.available()).isZero();
    }
  }

  // after shutdown(SHUT_RD) the epoll path's reads still return what had arrived (as Linux's recv,
  // and Python's), the portable path's end at once (the JDK's): available() counts what they take
  @ParameterizedTest
  @EnumSource(Family.class)
  void availableAfterShutdownOfTheReadingSideCountsWhatReadsStillReturn(Family family)
      throws Exception {
    try (Pair pair = Loopback.pair(family, dir)) {
      InputStream in = pair.server().getInputStream();
      pair.client().sendAll("hello".getBytes(UTF_8));
      pair.server().recvFrom(0); // waits until the bytes are queued, taking none
      pair.server().shutdown(Shutdown.SHUT_RD);

      byte[] stillRead =
          Boolean.getBoolean("jsock.selectorPoller") ? new byte[0] : "hello".getBytes(UTF_8);
      assertThat(in.available()).isEqualTo(stillRead.length);
      assertThat(in.readAllBytes()).isEqualTo(stillRead);
      assertThat(in.available()).isZero();
    }
  }

  @ParameterizedTest
  @EnumSource(Family.class)
  void readersAreReadyAndBufferedViewsCountBytesOnlyWhileDataIsQueued(Family family)
      throws Exception {
    try (Pair pair = Loopback.pair(family, dir)) {
      InputStreamReader reader = new InputStreamReader(pair.server().getInputStream(), UTF_8);
      BufferedReader lines = pair.server().makeFile("r");
      BufferedInputStream bytes = pair.server().makeFile("rb");
      assertThat(reader.ready()).isFalse();
      assertThat(lines.ready()).isFalse();
      assertThat(bytes.available()).isZero();

      pair.client().sendAll("hi\n".getBytes(UTF_8));
      pair.server().recvFrom(0); // waits until the bytes are queued, taking none
      assertThat(reader.ready()).isTrue();
      assertThat(lines.ready()).isTrue();
      assertThat(bytes.available()).isBetween(1, 3);

      assertThat(lines.readLine()).isEqualTo("hi");
      assertThat(reader.ready()).isFalse();
      assertThat(bytes.available()).isZero();
    }
  }

  // the JDK's throws SocketException("Socket closed"); a closed view refuses it as it refuses reads
  @Test
  void availableOnAClosedViewOrSocketThrowsSayingWhatIsClosed() throws Exception {
    try (Pair pair = Loopback.pair(Family.AF_INET)) {
      InputStream closedView = pair.server().getInputStream();
      InputStream open = pair.server().getInputStream();
      String peer = Addresses.format(pair.server().getPeerName());
      pair.client().sendAll("data".getBytes(UTF_8));
      closedView.close();

      assertThatThrownBy(closedView::available)
          .isExactlyInstanceOf(IOException.class)
          .hasMessage("ioctl FIONREAD: I/O operation on closed file");
      pair.server().close();
      assertThatThrownBy(open::available)
          .isInstanceOf(ClosedSocketException.class)
          .hasMessage("ioctl FIONREAD " + peer + ": socket is closed");
    }
  }

  // a listener (and any socket not connected) has no stream to count: it throws what a read throws,
  // as Linux's recv answers (TCP ENOTCONN, AF_UNIX EINVAL)
  @ParameterizedTest
  @EnumSource(Family.class)
  void availableOnAListenerThrowsWhatAReadThrows(Family family) throws Exception {
    try (Socket listener = Socket.create(family, SocketKind.SOCK_STREAM)) {
      listener.bind(Loopback.bindAddress(family, dir));
      listener.listen(1);
      InputStream in = listener.getInputStream();

      ErrnoException read = catchThrowableOfType(ErrnoException.class, in::read);
      ErrnoException available = catchThrowableOfType(ErrnoException.class, in::available);
      assertThat(available.errno())
          .isEqualTo(read.errno())
          .isEqualTo(family == Family.AF_UNIX ? Errno.EINVAL : Errno.ENOTCONN);
      assertThat(available).hasMessageStartingWith("ioctl FIONREAD: ");
    }
  }

  @Test
  void binaryViewsAndStreamsCarryBytesAndEndWithMinusOne() throws Exception {
    try (Pair pair = Loopback.pair(Family.AF_INET)) {
      OutputStream out = pair.client().makeFile("wb");
      out.write(new byte[] {1, 2, 3});
      out.flush();
      pair.client().getOutputStream().write(4);
      pair.client().shutdown(Shutdown.SHUT_WR);

      BufferedInputStream in = pair.server().makeFile("rb");
      assertThat(in.readAllBytes()).containsExactly(1, 2, 3, 4);
      assertThat(pair.server().getInputStream().read()).isEqualTo(-1);
    }
  }

  // python3: a makefile('wb') whose write timed out (or would block) while the peer did not read
  // keeps only the bytes its socket did not take; a later flush sends those, and the peer receives
  // every byte written once, in order
  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void aBinaryWriterThatFailedMidFlushSendsOnlyWhatDidNotGoWhenFlushedAgain(boolean nonBlocking)
      throws Exception {
    try (Pair pair = Loopback.pair(Family.AF_INET)) {
      pair.client().setTimeout(nonBlocking ? Duration.ZERO : Duration.ofMillis(50));
      OutputStream writer = pair.client().makeFile("wb");
      byte[] chunk = new byte[1000];
      for (int i = 0; i < chunk.length; i++) {
        chunk[i] = (byte) (i % 250); // so that the whole stream repeats 0..249
      }
      int written = 0;
      IOException failure = null;
      while (failure == null && written < 256 << 20) { // the peer reads nothing: the buffers fill
        try {
          writer.write(chunk);
          written += chunk.length;
        } catch (IOException e) {
          failure = e;
        }
      }
      assertThat(failure)
          .isInstanceOf(nonBlocking ? WouldBlockException.class : SocketTimeoutException.class);

      var receiving = receiveInTheBackground(pair.server(), written + 1);
      pair.client().setTimeout(null);
      writer.flush();
      pair.client().shutdown(Shutdown.SHUT_WR);

      byte[] expected = new byte[written];
      for (int i = 0; i < written; i++) {
        expected[i] = (byte) (i % 250);
      }
      byte[] received = receiving.get();
      assertThat(received.length).as("bytes received").isEqualTo(written);
      assertThat(received).isEqualTo(expected);
    }
  }

  // the same with writes larger than the buffer, which go straight to the socket: one that failed
  // part way had sent the start of its bytes and buffered none of the rest, so the peer received a
  // cut-off piece of a write that had thrown as if nothing of it had gone; as python3's
  // BufferedWriter (which buffers the rest of a write that would block), the writer keeps the rest
  // and the write returns: every byte written goes once, and the failure comes at the next flush
  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void aLargeBinaryWriteThatFailsPartWaySendsNoCutOffPieceOfItself(boolean nonBlocking)
      throws Exception {
    try (Pair pair = Loopback.pair(Family.AF_INET)) {
      pair.client().setTimeout(nonBlocking ? Duration.ZERO : Duration.ofMillis(50));
      OutputStream writer = pair.client().makeFile("wb");
      byte[] chunk = new byte[20_000]; // larger than the writer's buffer, a multiple of 250
      for (int i = 0; i < chunk.length; i++) {
        chunk[i] = (byte) (i % 250); // so that the whole stream repeats 0..249
      }
      long written = 0;
      IOException failure = null;
      while (failure == null && written < 256 << 20) { // the peer reads nothing: the buffers fill
        try {
          writer.write(chunk);
          written += chunk.length;
          writer.flush();
        } catch (IOException e) {
          failure = e;
        }
      }
      assertThat(failure)
          .isInstanceOf(nonBlocking ? WouldBlockException.class : SocketTimeoutException.class);

      var receiving = receiveInTheBackground(pair.server(), (int) written + 1);
      pair.client().setTimeout(null);
      writer.flush();
      pair.client().shutdown(Shutdown.SHUT_WR);

      byte[] received = receiving.get();
      assertThat(received.length).as("bytes received").isEqualTo(written);
      for (int i = 0; i < received.length; i++) {
        if (received[i] != (byte) (i % 250)) {
          throw new AssertionError("byte " + i + " of " + written + " is " + received[i]);
        }
      }
    }
  }

  // and when an interrupt ends the wait of such a write: it keeps the rest and returns, the thread
  // keeping its interrupt status (the next call that has to wait throws at once); it threw with
  // the start of its bytes sent and dropped the rest
  @Test
  void aLargeBinaryWriteThatAnInterruptEndsPartWaySendsNoCutOffPieceOfItself() throws Exception {
    try (Pair pair = Loopback.pair(Family.AF_INET)) {
      OutputStream writer = pair.client().makeFile("wb");
      byte[] data = new byte[16 << 20]; // more than the socket buffers hold
      for (int i = 0; i < data.length; i++) {
        data[i] = (byte) (i % 251);
      }
      Running<Boolean> writing =
          inVirtualThread(
              () -> {
                writer.write(data);
                return Thread.currentThread().isInterrupted();
              });
      writing.awaitBlocked();
      writing.thread().interrupt();
      assertThat(writing.get()).as("interrupt status kept").isTrue();

      var receiving = receiveInTheBackground(pair.server(), data.length + 1);
      writer.flush();
      pair.client().shutdown(Shutdown.SHUT_WR);
      byte[] received = receiving.get();
      assertThat(received.length).as("bytes received").isEqualTo(data.length);
      assertThat(received).isEqualTo(data);
    }
  }

  @Test
  void aTextWriterSendsALargeWriteAndSurrogatePairsSplitAnywhereWhole() throws Exception {
    try (Pair pair = Loopback.pair(Family.AF_INET)) {
      String text = "é\uD83D\uDE00a".repeat(100_000); // 2 + 4 + 1 bytes each, pairs across chunks
      var receiving = receiveInTheBackground(pair.server(), 700_005); // to the end of the stream
      BufferedWriter writer = pair.client().makeFile("w");
      writer.write(text);
      for (char c : "\uD83D\uDE00".toCharArray()) {
        writer.write(c);
      }
      writer.close();
      pair.client().shutdown(Shutdown.SHUT_WR);
      byte[] expected = (text + "\uD83D\uDE00").getBytes(UTF_8);
      byte[] received = receiving.get();
      assertThat(received.length).isEqualTo(expected.length);
      assertThat(Arrays.mismatch(received, expected)).as("first byte that differs").isEqualTo(-1);
    }
  }

  // python3: a makefile('w') whose write timed out (or would block) while the peer did not read
  // sends no byte twice: the lines the peer receives after a later flush count up from 0 without
  // a repeat (Python drops the text it had not yet handed to its BufferedWriter, up to 8 KiB);
  // jsock's text writer delivers every line whose write returned, once
  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void aTextWriterThatFailedMidFlushSendsNoByteTwiceWhenFlushedAgain(boolean nonBlocking)
      throws Exception {
    try (Pair pair = Loopback.pair(Family.AF_INET)) {
      pair.client().setTimeout(nonBlocking ? Duration.ZERO : Duration.ofMillis(50));
      BufferedWriter writer = pair.client().makeFile("w");
      int written = 0;
      IOException failure = null;
      while (failure == null && written < 30_000_000) { // the peer reads nothing: buffers fill
        try {
          writer.write("%07d\n".formatted(written));
          written++;
        } catch (IOException e) {
          failure = e;
        }
      }
      assertThat(failure)
          .isInstanceOf(nonBlocking ? WouldBlockException.class : SocketTimeoutException.class);

      var receiving = receiveInTheBackground(pair.server(), 8 * written + 1);
      pair.client().setTimeout(null);
      writer.flush();
      pair.client().shutdown(Shutdown.SHUT_WR);

      String[] lines = new String(receiving.get(), UTF_8).split("\n");
      for (int i = 0; i < lines.length; i++) {
        assertThat(lines[i]).as("line %d of %d received", i, lines.length).isEqualTo("%07d", i);
      }
      assertThat(lines).hasSize(written);
    }
  }

  @Test
  void aBufferedReaderRefusesToGoOnAfterATimeoutButTheRawStreamMay() throws Exception {
    try (Pair pair = Loopback.pair(Family.AF_INET)) {
      pair.server().setTimeout(Duration.ofMillis(50));
      BufferedInputStream buffered = pair.server().makeFile("rb");
      InputStream raw = pair.server().getInputStream();

      assertThatThrownBy(buffered::read).isExactlyInstanceOf(SocketTimeoutException.class);
      assertThatThrownBy(raw::read).isExactlyInstanceOf(SocketTimeoutException.class);
      pair.client().sendAll("late".getBytes(UTF_8));

      assertThatThrownBy(buffered::read)
          .isInstanceOf(ErrnoException.class)
          .hasMessage("recv from: cannot read from timed out object");
      pair.server().setTimeout(Duration.ofSeconds(10));
      assertThat(raw.readNBytes(4)).isEqualTo("late".getBytes(UTF_8));
    }
  }

  // python3: makefile('r') and makefile('w') decode and encode with errors='strict': a byte that is
  // not UTF-8 raises UnicodeDecodeError, a lone surrogate UnicodeEncodeError from the write, which
  // writes nothing of its text; nothing is replaced, and the writer goes on
  @Test
  void textViewsRefuseMalformedUtf8InsteadOfReplacingIt() throws Exception {
    try (Pair pair = Loopback.pair(Family.AF_INET)) {
      BufferedWriter writer = pair.client().makeFile("w");
      assertThatThrownBy(() -> writer.write("x\uD800y\n"))
          .isInstanceOf(MalformedInputException.class)
          .hasMessage("Input length = 1");
      writer.write("ok \uD83D");
      writer.write("\uDE00\n"); // a surrogate pair split over two writes, as Writer.write(int) does
      writer.flush();
      assertThat(readExactly(pair.server(), 8)).isEqualTo("ok \uD83D\uDE00\n".getBytes(UTF_8));

      pair.client().sendAll(new byte[] {'a', (byte) 0xFF, 'b', '\n'});
      BufferedReader reader = pair.server().makeFile("r");
      assertThatThrownBy(reader::readLine)
          .isInstanceOf(MalformedInputException.class)
          .hasMessage("Input length = 1");
    }
  }

  // python3: write and flush on a closed makefile('wb') raise ValueError("write to closed file")
  // and ValueError("flush of closed file"); nothing is buffered to be lost
  @Test
  void aClosedBinaryWriterRefusesWritesAndFlushes() throws Exception {
    try (Pair pair = Loopback.pair(Family.AF_INET)) {
      OutputStream writer = pair.client().makeFile("wb");
      writer.write('a');
      writer.close();

      assertThatThrownBy(() -> writer.write('b'))
          .isExactlyInstanceOf(IOException.class)
          .hasMessage("send to: I/O operation on closed file");
      assertThatThrownBy(() -> writer.write(new byte[] {'c', 'd'}))
          .isExactlyInstanceOf(IOException.class)
          .hasMessage("send to: I/O operation on closed file");
      assertThatThrownBy(writer::flush)
          .isExactlyInstanceOf(IOException.class)
          .hasMessage("send to: I/O operation on closed file");
      writer.close(); // a second close does nothing, as Python's
      pair.client().shutdown(Shutdown.SHUT_WR);
      assertThat(readExactly(pair.server(), 2)).isEqualTo("a".getBytes(UTF_8));
    }
  }

  // python3: write('') on a closed makefile('w') raises ValueError("I/O operation on closed
  // file"), as the JDK's BufferedWriter.write(s, 0, -1) throws "Stream closed": a closed view
  // refuses even a write of nothing
  @Test
  void aClosedTextWriterRefusesAWriteOfNothing() throws Exception {
    try (Pair pair = Loopback.pair(Family.AF_INET)) {
      BufferedWriter writer = pair.client().makeFile("w");
      writer.close();

      assertThatThrownBy(() -> writer.write("x", 0, -1))
          .isExactlyInstanceOf(IOException.class)
          .hasMessage("send to: I/O operation on closed file");
      assertThatThrownBy(() -> writer.write("", 0, 0))
          .isExactlyInstanceOf(IOException.class)
          .hasMessage("send to: I/O operation on closed file");
    }
  }

  // python3's makefile needs a blocking socket (its docs); a BufferedReader whose fill would block
  // in readLine drops the part of the line it had read, so, as after a timeout (a would-block is
  // a timeout of zero, as settimeout(0.0)), the reader refuses to go on rather than give the rest
  // of the line for a whole one
  @Test
  void aBufferedReaderRefusesToGoOnAfterAReadWouldBlock() throws Exception {
    try (Pair pair = Loopback.pair(Family.AF_INET);
        SocketSelector selector = SocketSelector.open()) {
      selector.register(pair.server(), Set.of(Event.EVENT_READ), "server");
      BufferedReader reader = pair.server().makeFile("r");
      pair.client().sendAll("start of a line, ".getBytes(UTF_8));
      assertThat(selector.select(Duration.ofSeconds(10))).hasSize(1);
      pair.server().setBlocking(false);

      assertThatThrownBy(reader::readLine).isExactlyInstanceOf(WouldBlockException.class);
      pair.client().sendAll("its end\n".getBytes(UTF_8));
      assertThat(selector.select(Duration.ofSeconds(10))).hasSize(1);

      assertThatThrownBy(reader::readLine)
          .isInstanceOf(ErrnoException.class)
          .hasMessage("recv from: cannot read from timed out object");
      assertThat(pair.server().recv(100)).isEqualTo("its end\n".getBytes(UTF_8));
    }
  }

  // likewise an interrupt that ends readLine's wait mid-line: the part it had read is gone, so the
  // next readLine would give the rest of the line for a whole one
  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void aBufferedReaderRefusesToGoOnAfterAnInterruptMidLine(boolean virtual) throws Exception {
    try (Pair pair = Loopback.pair(Family.AF_INET)) {
      BufferedReader reader = pair.server().makeFile("r");
      pair.client().sendAll("start of a line, ".getBytes(UTF_8));
      Callable<String> readLine = reader::readLine;
      Running<String> reading = virtual ? inVirtualThread(readLine) : inPlatformThread(readLine);
      reading.awaitBlocked();

      reading.thread().interrupt();

      assertThat(reading.failure())
          .isExactlyInstanceOf(InterruptedIOException.class)
          .hasMessage(
              "recv from " + Addresses.format(pair.server().getPeerName()) + ": interrupted");
      pair.client().sendAll("its end\n".getBytes(UTF_8));
      assertThatThrownBy(reader::readLine)
          .isInstanceOf(ErrnoException.class)
          .hasMessage("recv from: cannot read from timed out object");
      assertThat(pair.server().recv(100)).isEqualTo("its end\n".getBytes(UTF_8));
    }
  }

  // readNBytes, readAllBytes and skip loop over reads: an interrupt that ends a later read's wait
  // (or, for getInputStream(), a timeout, after which the plain view may go on) threw away the
  // bytes the loop had taken while the view went on, so the next read gave later bytes as if those
  // had never come; as after readLine's, the view now refuses to go on, and the exception says how
  // many bytes the loop had taken (InterruptedIOException.bytesTransferred)
  @ParameterizedTest
  @ValueSource(strings = {"rb interrupt", "stream interrupt", "stream timeout"})
  void aReadLoopEndedPartWayByAnInterruptOrTimeoutRefusesToGoOnRatherThanDropItsBytes(String how)
      throws Exception {
    try (Pair pair = Loopback.pair(Family.AF_INET)) {
      InputStream in =
          how.startsWith("rb") ? pair.server().makeFile("rb") : pair.server().getInputStream();
      pair.client().sendAll("four".getBytes(UTF_8));
      InterruptedIOException failure;
      if (how.endsWith("timeout")) {
        pair.server().setTimeout(Duration.ofMillis(50));
        failure = catchThrowableOfType(SocketTimeoutException.class, () -> in.readNBytes(10));
      } else {
        Callable<byte[]> readTen = () -> in.readNBytes(10);
        Running<byte[]> reading = inVirtualThread(readTen);
        reading.awaitBlocked();
        reading.thread().interrupt();
        failure = (InterruptedIOException) reading.failure();
      }

      assertThat(failure).isInstanceOf(InterruptedIOException.class);
      assertThat(failure.bytesTransferred).isEqualTo(4);
      pair.client().sendAll("later".getBytes(UTF_8));
      assertThatThrownBy(() -> in.readNBytes(5))
          .isInstanceOf(ErrnoException.class)
          .hasMessage("recv from: cannot read from timed out object");
      pair.server().setTimeout(Duration.ofSeconds(10));
      assertThat(pair.server().recv(100)).isEqualTo("later".getBytes(UTF_8));
    }
  }

  // python3: a makefile('rb') on a non-blocking socket returns None while nothing has come and
  // then the bytes that come; a BufferedInputStream's read loses nothing when it would block
  @Test
  void aBinaryReaderGoesOnAfterAReadWouldBlock() throws Exception {
    try (Pair pair = Loopback.pair(Family.AF_INET);
        SocketSelector selector = SocketSelector.open()) {
      selector.register(pair.server(), Set.of(Event.EVENT_READ), "server");
      pair.server().setBlocking(false);
      BufferedInputStream reader = pair.server().makeFile("rb");

      assertThatThrownBy(reader::read).isExactlyInstanceOf(WouldBlockException.class);
      pair.client().sendAll("data".getBytes(UTF_8));
      assertThat(selector.select(Duration.ofSeconds(10))).hasSize(1);

      byte[] got = new byte[10];
      assertThat(reader.read(got)).isEqualTo(4);
      assertThat(Arrays.copyOf(got, 4)).isEqualTo("data".getBytes(UTF_8));
      assertThatThrownBy(reader::read).isExactlyInstanceOf(WouldBlockException.class);
    }
  }

  // python3: on a non-blocking socket makefile('rb').read() and read(n), and the raw SocketIO's
  // readall(), return the bytes that had come when the next read would block (None if none had);
  // readAllBytes and readNBytes threw WouldBlockException and dropped them, the view going on
  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void readingAllOrNBytesWithoutBlockingGivesWhatHadComeInsteadOfDroppingIt(boolean buffered)
      throws Exception {
    try (Pair pair = Loopback.pair(Family.AF_INET);
        SocketSelector selector = SocketSelector.open()) {
      selector.register(pair.server(), Set.of(Event.EVENT_READ), "server");
      pair.server().setBlocking(false);
      InputStream in = buffered ? pair.server().makeFile("rb") : pair.server().getInputStream();

      assertThatThrownBy(in::readAllBytes).isExactlyInstanceOf(WouldBlockException.class);
      pair.client().sendAll("data".getBytes(UTF_8));
      assertThat(selector.select(Duration.ofSeconds(10))).hasSize(1);
      assertThat(in.readAllBytes()).isEqualTo("data".getBytes(UTF_8));

      pair.client().sendAll("more".getBytes(UTF_8));
      assertThat(selector.select(Duration.ofSeconds(10))).hasSize(1);
      assertThat(in.readNBytes(10)).isEqualTo("more".getBytes(UTF_8));

      pair.client().sendAll("xyz".getBytes(UTF_8));
      assertThat(selector.select(Duration.ofSeconds(10))).hasSize(1);
      byte[] got = new byte[10];
      assertThat(in.readNBytes(got, 1, 9)).isEqualTo(3);
      assertThat(Arrays.copyOfRange(got, 1, 4)).isEqualTo("xyz".getBytes(UTF_8));
      assertThatThrownBy(() -> in.readNBytes(10)).isExactlyInstanceOf(WouldBlockException.class);
      assertThatThrownBy(() -> in.readNBytes(got, 0, 10))
          .isExactlyInstanceOf(WouldBlockException.class);

      pair.client().sendAll("last".getBytes(UTF_8));
      pair.client().shutdown(Shutdown.SHUT_WR);
      assertThat(selector.select(Duration.ofSeconds(10))).hasSize(1);
      assertThat(in.readAllBytes()).isEqualTo("last".getBytes(UTF_8));
      assertThat(in.readAllBytes()).isEmpty();
    }
  }

  // InputStream.skip may skip fewer bytes than asked and says how many; on a non-blocking socket
  // it threw WouldBlockException having skipped the bytes that had come, so a caller that skipped
  // again skipped past data it never saw counted
  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void skipWithoutBlockingSaysHowManyBytesItSkipped(boolean buffered) throws Exception {
    try (Pair pair = Loopback.pair(Family.AF_INET);
        SocketSelector selector = SocketSelector.open()) {
      selector.register(pair.server(), Set.of(Event.EVENT_READ), "server");
      pair.server().setBlocking(false);
      InputStream in = buffered ? pair.server().makeFile("rb") : pair.server().getInputStream();

      assertThatThrownBy(() -> in.skip(100)).isExactlyInstanceOf(WouldBlockException.class);
      pair.client().sendAll("abcdef".getBytes(UTF_8));
      assertThat(selector.select(Duration.ofSeconds(10))).hasSize(1);
      assertThat(in.skip(100)).isEqualTo(6);

      pair.client().sendAll("xy".getBytes(UTF_8));
      assertThat(selector.select(Duration.ofSeconds(10))).hasSize(1);
      assertThat(in.read()).isEqualTo('x');
    }
  }

  // python3's makefile reads its mode as a set of r, w and b: 'br' and 'b' are 'rb', 'bw' is 'wb',
  // '' is 'r' (its default); any other letter is "invalid mode 'rt' (only r, w, b allowed)"
  @Test
  void makeFileTakesTheModesPythonTakesInAnyOrder() throws Exception {
    try (Pair pair = Loopback.pair(Family.AF_INET)) {
      OutputStream writer = pair.client().makeFile("bw");
      BufferedInputStream binary = pair.server().makeFile("br");
      writer.write("one\n".getBytes(UTF_8));
      writer.flush();
      assertThat(binary.readNBytes(4)).isEqualTo("one\n".getBytes(UTF_8));

      BufferedInputStream alsoBinary = pair.server().makeFile("b");
      writer.write("two\n".getBytes(UTF_8));
      writer.flush();
      assertThat(alsoBinary.readNBytes(4)).isEqualTo("two\n".getBytes(UTF_8));

      BufferedReader text = pair.server().makeFile("");
      writer.write("three\n".getBytes(UTF_8));
      writer.flush();
      assertThat(text.readLine()).isEqualTo("three");
    }
  }

  @Test
  void makeFileRefusesOtherModes() throws Exception {
    try (Socket socket = Socket.create()) {
      assertThatThrownBy(() -> socket.makeFile("rt"))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("invalid mode 'rt' (only r, w, b allowed)");
      assertThatThrownBy(() -> socket.makeFile("rwb"))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("mode 'rwb' reads and writes: make a reader (r, rb) and a writer (w, wb)");
      assertThatThrownBy(() -> socket.makeFile(null))
          .isInstanceOf(NullPointerException.class)
          .hasMessage("mode");
    }
  }
}
