package io.jsock.internal;

import static io.jsock.internal.StreamCalls.UNKNOWN_ADDRESS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

import io.jsock.Errno;
import java.io.IOException;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code recv(2)} and {@code send(2)} on a channel's file descriptor, and the guard that keeps the
 * descriptor open across a call: without it a close on another thread could release the number
 * between the moment a call reads it and the system call, and the call would read or write whatever
 * file got the number next.
 */
@Timeout(60)
class StreamCallsTest {
  private final MemorySegment state = NativeCells.take();
  private ChannelPair pair;

  @BeforeEach
  void connect() throws IOException {
    assumeThat(StreamCalls.isAvailable()).as("the epoll run only").isTrue();
    pair = ChannelPair.open();
  }

  @AfterEach
  void close() throws IOException {
    if (pair != null) {
      pair.close();
    }
  }

  @Test
  void theCallsAreAvailableExactlyWhenTheEpollPollerIs() {
    assertThat(StreamCalls.isAvailable()).isEqualTo(Epoll.isAvailable());
  }

  @Test
  void sendWritesTheBuffersRemainingBytesInPlaceAndAdvancesItsPosition() throws Exception {
    PolledChannel polled = new PolledChannel(pair.ours());
    byte[] bytes = "..hello, peer!..".getBytes(StandardCharsets.US_ASCII);
    for (ByteBuffer data :
        new ByteBuffer[] {
          ByteBuffer.wrap(bytes, 2, 12),
          ByteBuffer.wrap(bytes, 2, 12).asReadOnlyBuffer(),
          ByteBuffer.allocateDirect(16).put(bytes).flip().position(2).limit(14)
        }) {
      int fd = polled.enterCall();
      try {
        assertThat(StreamCalls.send(fd, data, UNKNOWN_ADDRESS, state)).isEqualTo(12);
      } finally {
        polled.exitCall();
      }
      assertThat(data.position()).isEqualTo(14);
      assertThat(data.hasRemaining()).isFalse();
      ByteBuffer received = ByteBuffer.allocate(12);
      while (received.hasRemaining()) {
        pair.peer().read(received);
      }
      assertThat(new String(received.array(), StandardCharsets.US_ASCII)).isEqualTo("hello, peer!");
    }
  }

  @Test
  void recvFillsFromThePositionAndReportsNothingYetThenTheEndOfTheStream() throws Exception {
    PolledChannel polled = new PolledChannel(pair.ours());
    int fd = polled.enterCall();
    try {
      ByteBuffer heap = ByteBuffer.allocate(10).position(3);
      assertThat(StreamCalls.recv(fd, heap, UNKNOWN_ADDRESS, state))
          .as("nothing sent yet")
          .isZero();

      pair.peer().write(ByteBuffer.wrap(new byte[] {1, 2, 3, 4}));
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> StreamCalls.recv(fd, heap, UNKNOWN_ADDRESS, state) != 0);
      assertThat(heap.position()).isEqualTo(7);
      assertThat(heap.array()).containsExactly(0, 0, 0, 1, 2, 3, 4, 0, 0, 0);

      pair.peer().write(ByteBuffer.wrap(new byte[] {5, 6}));
      ByteBuffer direct = ByteBuffer.allocateDirect(8);
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> StreamCalls.recv(fd, direct, UNKNOWN_ADDRESS, state) != 0);
      assertThat(direct.flip().remaining()).isEqualTo(2);
      assertThat(direct.get(0)).isEqualTo((byte) 5);

      pair.peer().shutdownOutput();
      ByteBuffer more = ByteBuffer.allocate(4);
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> StreamCalls.recv(fd, more, UNKNOWN_ADDRESS, state) == -1);
      assertThat(StreamCalls.recv(fd, more.limit(0), UNKNOWN_ADDRESS, state))
          .as("no room: no call")
          .isZero();
    } finally {
      polled.exitCall();
    }
  }

  @Test
  void aScratchBufferGoesByItsAddressFromItsPosition() throws Exception {
    PolledChannel polled = new PolledChannel(pair.ours());
    ScratchBuffers.Scratch scratch = ScratchBuffers.take();
    assertThat(scratch).isNotNull();
    try {
      ByteBuffer buffer = scratch.buffer();
      assertThat(buffer.isDirect()).isTrue();
      assertThat(buffer.position()).isZero();
      assertThat(buffer.limit()).isEqualTo(ScratchBuffers.SIZE);
      int fd = polled.enterCall();
      try {
        buffer.put("..scratch!".getBytes(StandardCharsets.US_ASCII)).flip().position(2);
        assertThat(StreamCalls.send(fd, buffer, scratch.address(), state)).isEqualTo(8);
        assertThat(buffer.position()).isEqualTo(10);
        ByteBuffer sent = ByteBuffer.allocate(8);
        while (sent.hasRemaining()) {
          pair.peer().read(sent);
        }
        assertThat(new String(sent.array(), StandardCharsets.US_ASCII)).isEqualTo("scratch!");

        pair.peer().write(ByteBuffer.wrap(new byte[] {7, 8, 9}));
        buffer.clear().position(5).limit(7);
        await()
            .atMost(Duration.ofSeconds(10))
            .until(() -> StreamCalls.recv(fd, buffer, scratch.address(), state) != 0);
        assertThat(buffer.position()).as("two asked for, two came").isEqualTo(7);
        buffer.limit(8);
        assertThat(new byte[] {buffer.get(4), buffer.get(5), buffer.get(6), buffer.get(7)})
            .as("after the position, within the limit")
            .containsExactly('r', 7, 8, 'c');
        assertThat(StreamCalls.recv(fd, buffer, scratch.address(), state)).isEqualTo(1);
        assertThat(buffer.get(7)).isEqualTo((byte) 9);
      } finally {
        polled.exitCall();
      }
    } finally {
      ScratchBuffers.give(scratch);
    }
  }

  @Test
  void aFailedCallCarriesItsErrorNumber() throws Exception {
    PolledChannel polled = new PolledChannel(pair.ours());
    pair.ours().shutdownOutput();
    int fd = polled.enterCall();
    try {
      assertThatThrownBy(
              () -> StreamCalls.send(fd, ByteBuffer.wrap(new byte[] {1}), UNKNOWN_ADDRESS, state))
          .isInstanceOfSatisfying(
              StreamCalls.Failed.class,
              failed -> assertThat(failed.errno()).isEqualTo(Errno.EPIPE));
    } finally {
      polled.exitCall();
    }
  }

  @Test
  void aCloseWaitsForTheCallsInFlightAndNoCallStartsOnceItHasBegun() throws Exception {
    PolledChannel polled = new PolledChannel(pair.ours());
    int fd = polled.enterCall();
    assertThat(fd).isEqualTo(Epoll.fd(pair.ours()));
    int second = polled.enterCall();
    assertThat(second).isEqualTo(fd);

    CompletableFuture<Void> closing =
        CompletableFuture.runAsync(
            () -> {
              try {
                polled.close();
              } catch (IOException e) {
                throw new IllegalStateException(e);
              }
            });
    await().atMost(Duration.ofSeconds(10)).until(() -> hasBegunClosing(polled));
    polled.exitCall();
    await()
        .during(Duration.ofMillis(300))
        .atMost(Duration.ofSeconds(10)) // the 300 ms of holding, and a loaded machine's pauses
        .until(() -> pair.ours().isOpen() && !closing.isDone());
    // the descriptor is still this socket's: a call in flight reaches it, not another file
    assertThat(StreamCalls.send(fd, ByteBuffer.wrap(new byte[] {42}), UNKNOWN_ADDRESS, state))
        .isEqualTo(1);

    polled.exitCall();
    closing.get();
    assertThat(pair.ours().isOpen()).isFalse();
    assertThat(hasBegunClosing(polled)).isTrue();
    ByteBuffer received = ByteBuffer.allocate(1);
    pair.peer().read(received);
    assertThat(received.array()).containsExactly(42);
  }

  @Test
  void eachDirectionReusesOneErrnoCellAndAConcurrentCallGetsAnotherWhileItIsTaken()
      throws Exception {
    PolledChannel polled = new PolledChannel(pair.ours());
    MemorySegment read = polled.takeState(false);
    MemorySegment write = polled.takeState(true);
    assertThat(read).isNotSameAs(write);
    assertThat(read.isNative()).as("native, as the epoll calls' capture segments").isTrue();
    assertThat(read.byteSize())
        .as("room for an epoll_ctl: its event, then its errno")
        .isGreaterThanOrEqualTo(Epoll.EVENT_SIZE + Linker.Option.captureStateLayout().byteSize());
    MemorySegment concurrentRead = polled.takeState(false);
    assertThat(concurrentRead).as("taken: another").isNotSameAs(read);
    polled.giveState(false, read);
    polled.giveState(true, write);
    assertThat(polled.takeState(false)).as("given back: the same").isSameAs(read);
    assertThat(polled.takeState(true)).isSameAs(write);

    // a failed call's errno comes back through the cell it was given, from any cell
    pair.peer().close();
    int fd = polled.enterCall();
    try {
      await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () -> {
                try {
                  StreamCalls.send(
                      fd, ByteBuffer.wrap(new byte[1024]), UNKNOWN_ADDRESS, concurrentRead);
                  return false;
                } catch (StreamCalls.Failed failed) {
                  return failed.errno() == Errno.EPIPE || failed.errno() == Errno.ECONNRESET;
                }
              });
    } finally {
      polled.exitCall();
    }
  }

  @Test
  void theCellsGoBackToBeSharedWhenTheChannelClosesOrHasOneTooMany() throws Exception {
    PolledChannel polled = new PolledChannel(pair.ours());
    MemorySegment first = polled.takeState(false);
    MemorySegment second = polled.takeState(false);
    MemorySegment write = polled.takeState(true);
    assertThat(NativeCells.isFree(first) || NativeCells.isFree(second) || NativeCells.isFree(write))
        .as("taken: not free")
        .isFalse();

    polled.giveState(false, first);
    polled.giveState(false, second); // the channel keeps one per direction: the first goes back
    polled.giveState(true, write);
    assertThat(NativeCells.isFree(first)).isTrue();
    assertThat(NativeCells.isFree(second) || NativeCells.isFree(write)).isFalse();
    assertThat(polled.takeState(false)).isSameAs(second);
    polled.giveState(false, second);

    polled.close();
    assertThat(NativeCells.isFree(second) && NativeCells.isFree(write))
        .as("closed: both given back")
        .isTrue();
  }

  @Test
  void epollRegistrationsChangesAndRemovalsGiveBackTheCellsTheyTake() throws Exception {
    MemorySegment next = NativeCells.take(); // the free cell a take returns next
    NativeCells.give(next);
    PolledChannel polled = new PolledChannel(pair.ours());
    pair.peer().write(ByteBuffer.wrap(new byte[] {1})); // so that neither wait below parks for long

    Thread waiter =
        Thread.ofVirtual()
            .start(
                () -> {
                  polled.await(SelectionKey.OP_READ, Long.MAX_VALUE); // epoll_ctl ADD
                  polled.await(SelectionKey.OP_WRITE, Long.MAX_VALUE); // epoll_ctl MOD
                });
    assertThat(waiter.join(Duration.ofSeconds(10))).as("both waits over").isTrue();
    assertThat(NativeCells.isFree(next)).as("registered: the cell given back").isTrue();

    polled.close(); // epoll_ctl DEL
    assertThat(NativeCells.isFree(next)).as("removed: the cell given back").isTrue();
    MemorySegment again = NativeCells.take();
    NativeCells.give(again);
    assertThat(again).as("the same cell first again").isSameAs(next);
  }

  /** Whether no call may start: {@code enterCall} refuses (a call it lets start ends at once). */
  private static boolean hasBegunClosing(PolledChannel polled) {
    int fd = polled.enterCall();
    if (fd >= 0) {
      polled.exitCall();
    }
    return fd < 0;
  }
}
