package io.jsock.internal;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.jsock.Errno;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.ByteBuffer;

/**
 * {@code recv(2)} and {@code send(2)} on a stream socket's file descriptor, called through the FFM
 * API: what {@code SocketChannel.read} and {@code write} do, less what a non-blocking socket does
 * not need from them. The channel copies a heap buffer into a temporary direct buffer before
 * writing it (and reads into one before copying out), and takes a lock and its state lock on every
 * call; these calls read and write the caller's memory in place, heap or direct, as CPython's do.
 *
 * <p>Both calls are made with {@code MSG_DONTWAIT}, so they never block, which is what lets them be
 * linked as critical functions that may touch the Java heap: the garbage collector waits for them
 * as it waits for any running Java code, and a call copies at most what the socket's kernel buffers
 * hold, so that wait is short. {@code send} adds {@code MSG_NOSIGNAL}: a reset peer gives {@code
 * EPIPE}, never a {@code SIGPIPE}.
 *
 * <p>Available where the epoll poller is ({@link Epoll#isAvailable()}) unless {@code
 * -Djsock.streamCalls=false} is set, which sends every read and write through the channel. Callers
 * hold the file descriptor open across a call with {@link PolledChannel#enterCall()}.
 */
public final class StreamCalls {
  private static final int MSG_DONTWAIT = 0x40;
  private static final int MSG_NOSIGNAL = 0x4000;

  /** What {@link #call} returns when the call would have had to wait. */
  private static final long WOULD_BLOCK = -1;

  private static final MethodHandle RECV;
  private static final MethodHandle SEND;

  /** The captured state (errno) as ints: a heap array, which a critical call may write. */
  private static final int STATE_INTS = (int) Linker.Option.captureStateLayout().byteSize() / 4;

  private static final int ERRNO_INDEX =
      (int)
              Linker.Option.captureStateLayout()
                  .byteOffset(MemoryLayout.PathElement.groupElement("errno"))
          / 4;

  static {
    MethodHandle recv = null;
    MethodHandle send = null;
    if (Epoll.isAvailable()
        && Boolean.parseBoolean(System.getProperty("jsock.streamCalls", "true"))) {
      Linker linker = Linker.nativeLinker();
      var libc = linker.defaultLookup();
      // ssize_t recv(int fd, void *buf, size_t len, int flags), and send alike
      var descriptor = FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT);
      Linker.Option errno = Linker.Option.captureCallState("errno");
      Linker.Option critical = Linker.Option.critical(true);
      recv = linker.downcallHandle(libc.find("recv").orElseThrow(), descriptor, errno, critical);
      send = linker.downcallHandle(libc.find("send").orElseThrow(), descriptor, errno, critical);
    }
    RECV = recv;
    SEND = send;
  }

  private StreamCalls() {}

  /**
   * A new array for the state (errno) a call captures: each call writes it, so one array serves one
   * call at a time (see {@link PolledChannel#takeState}).
   */
  public static int[] newState() {
    return new int[STATE_INTS];
  }

  /** Whether reads and writes go through these calls rather than the channel. */
  public static boolean isAvailable() {
    return RECV != null;
  }

  /**
   * Reads into the buffer's remaining space, advancing its position; as {@code SocketChannel.read}
   * on a non-blocking channel, returns the count, 0 when nothing is there, -1 at the end of the
   * stream.
   *
   * @throws Failed with the error number of a failed call
   */
  public static int recv(int fd, ByteBuffer buffer, int[] state) throws Failed {
    if (!buffer.hasRemaining()) {
      return 0;
    }
    long n = call(true, fd, buffer, MSG_DONTWAIT, state);
    return n == WOULD_BLOCK ? 0 : n == 0 ? -1 : (int) n;
  }

  /**
   * Writes from the buffer's remaining bytes, advancing its position; returns how many went, 0 when
   * the send buffer is full.
   *
   * @throws Failed with the error number of a failed call
   */
  public static int send(int fd, ByteBuffer buffer, int[] state) throws Failed {
    if (!buffer.hasRemaining()) {
      return 0;
    }
    long n = call(false, fd, buffer, MSG_DONTWAIT | MSG_NOSIGNAL, state);
    return n == WOULD_BLOCK ? 0 : (int) n;
  }

  /**
   * One {@code recv} or {@code send} of the buffer's remaining bytes, retried when a signal
   * interrupted it: the count (the buffer's position advanced by it), or {@link #WOULD_BLOCK}.
   */
  private static long call(boolean recv, int fd, ByteBuffer buffer, int flags, int[] state)
      throws Failed {
    int position = buffer.position();
    long length = buffer.limit() - position;
    MemorySegment memory = MemorySegment.ofBuffer(buffer); // position to limit
    while (true) {
      long n;
      try {
        // each handle a constant at its call site, so that the JIT links the call directly
        MemorySegment captured = MemorySegment.ofArray(state);
        n =
            recv
                ? (long) RECV.invokeExact(captured, fd, memory, length, flags)
                : (long) SEND.invokeExact(captured, fd, memory, length, flags);
      } catch (Throwable e) {
        throw new IllegalStateException(recv ? "recv" : "send", e);
      }
      if (n >= 0) {
        buffer.position(position + (int) n);
        return n;
      }
      int errno = state[ERRNO_INDEX];
      if (errno == Errno.EAGAIN) {
        return WOULD_BLOCK;
      }
      if (errno != Errno.EINTR) {
        throw new Failed(errno);
      }
    }
  }

  /** A failed call, with its error number; the caller words it for its operation. */
  public static final class Failed extends Exception {
    private static final long serialVersionUID = 1L;

    private final int errno;

    Failed(int errno) {
      super("errno " + errno, null, false, false);
      this.errno = errno;
    }

    /** The error number. */
    public int errno() {
      return errno;
    }
  }
}
