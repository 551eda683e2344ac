package io.jsock.internal;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.jsock.Errno;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code epoll_ctl} as {@link Epoll#ctl(int, int, int, int, long)} makes it on a real socket: each
 * call's event reaches the kernel as written (its mask and data come back from {@code epoll_wait}),
 * and each failure's errno comes back, none lingering into the next call.
 */
@Timeout(60)
class EpollTest {
  /** Linux's errno for a descriptor registered already (not among {@link Errno}'s names). */
  private static final int EEXIST = 17;

  @BeforeEach
  void onlyWithEpoll() {
    assumeThat(Epoll.isAvailable()).as("the epoll run only").isTrue();
  }

  @Test
  void eachCallsEventReachesTheKernelAndEachFailureReturnsItsErrno() throws Throwable {
    int epfd = Epoll.create();
    try (Arena arena = Arena.ofConfined();
        ChannelPair pair = ChannelPair.open()) {
      MemorySegment events = Epoll.eventBuffer(arena, 4);
      MemorySegment state = Epoll.callState(arena);
      int fd = Epoll.fd(pair.ours());

      assertThat(Epoll.ctl(epfd, Epoll.CTL_ADD, fd, Epoll.EPOLLIN, 1234)).isZero();
      assertThat(Epoll.ctl(epfd, Epoll.CTL_ADD, fd, Epoll.EPOLLIN, 1234)).isEqualTo(EEXIST);
      assertThat(Epoll.await(epfd, events, 4, 0, state)).as("nothing to read yet").isZero();

      pair.peer().write(ByteBuffer.wrap(new byte[] {7}));
      assertThat(Epoll.await(epfd, events, 4, 10_000, state)).isEqualTo(1);
      assertThat(Epoll.dataOf(events, 0)).isEqualTo(1234);
      assertThat(Epoll.events(events, 0) & Epoll.EPOLLIN).isEqualTo(Epoll.EPOLLIN);

      // After the EEXIST above, a call that succeeds reports no failure of its own.
      assertThat(Epoll.ctl(epfd, Epoll.CTL_MOD, fd, Epoll.EPOLLIN, 5678)).isZero();
      assertThat(Epoll.await(epfd, events, 4, 10_000, state)).isEqualTo(1);
      assertThat(Epoll.dataOf(events, 0)).as("the new data, level-triggered").isEqualTo(5678);

      assertThat(Epoll.ctl(epfd, Epoll.CTL_DEL, fd, 0, fd)).isZero();
      assertThat(Epoll.ctl(epfd, Epoll.CTL_DEL, fd, 0, fd)).isEqualTo(Errno.ENOENT);
      assertThat(Epoll.await(epfd, events, 4, 0, state)).as("deregistered").isZero();
      assertThat(Epoll.ctl(-1, Epoll.CTL_ADD, fd, Epoll.EPOLLIN, fd)).isEqualTo(Errno.EBADF);
      assertThat(Epoll.ctl(epfd, Epoll.CTL_ADD, fd, Epoll.EPOLLIN, 9)).isZero();
      assertThat(Epoll.await(epfd, events, 4, 10_000, state)).isEqualTo(1);
      assertThat(Epoll.dataOf(events, 0)).isEqualTo(9);
    } finally {
      closeFd(epfd);
    }
  }

  /** Closes an epoll instance's descriptor, which no JDK object owns. */
  private static void closeFd(int fd) throws Throwable {
    Linker linker = Linker.nativeLinker();
    MethodHandle close =
        linker.downcallHandle(
            linker.defaultLookup().find("close").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    assertThat((int) close.invokeExact(fd)).isZero();
  }
}
