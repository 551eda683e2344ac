package io.jsock.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;

/**
 * Small cells of native memory for the system calls made through the FFM: where {@link StreamCalls}
 * capture errno, each open socket holding one per direction (see {@link PolledChannel#takeState})
 * and giving them back when it closes, and the {@code struct epoll_event} and errno of the {@code
 * epoll_ctl} that registers, changes or removes a socket (see {@link EpollPoller}), one cell taken
 * for that one call. Cut from shared blocks, so that none of these calls allocates: a confined
 * arena per call costs a {@code malloc} and a {@code free} of each segment, two each for every
 * connection a server accepts.
 *
 * <p>Native, not a heap array: the JDK's linker makes a slice of the capture segment on every call,
 * and the JIT removes that slice only where every capture segment it has seen is of one kind; the
 * epoll calls' segments are native. A block is freed by the garbage collector once none of its
 * cells is reachable: the cells of a socket dropped without being closed stay unused until then,
 * never for the JVM's life. Free cells are kept (about 64 bytes each with their segment), so after
 * a peak of connections the next ones take cells without allocating.
 */
final class NativeCells {
  /**
   * A cell's size: an epoll event followed by the captured state, what one {@code epoll_ctl} needs
   * (16 bytes on x86-64), rounded up to 8 bytes; a {@link StreamCalls} call uses its start.
   */
  private static final long CELL =
      (Epoll.EVENT_SIZE + Linker.Option.captureStateLayout().byteSize() + 7) & ~7L;

  /** Cells per block. */
  private static final int BLOCK_CELLS = 256;

  private static final ArrayDeque<MemorySegment> FREE = new ArrayDeque<>();

  private NativeCells() {}

  /** A cell, from a free one or a new block. */
  static MemorySegment take() {
    synchronized (FREE) {
      MemorySegment cell = FREE.pollLast();
      if (cell != null) {
        return cell;
      }
      MemorySegment block = Arena.ofAuto().allocate(CELL * BLOCK_CELLS, 8);
      for (int i = 1; i < BLOCK_CELLS; i++) {
        FREE.addLast(block.asSlice(i * CELL, CELL));
      }
      return block.asSlice(0, CELL);
    }
  }

  /** Gives back a cell from {@link #take()}, which its taker no longer uses. */
  static void give(MemorySegment cell) {
    synchronized (FREE) {
      FREE.addLast(cell);
    }
  }

  /** Whether this very cell is among the free ones (for tests). */
  static boolean isFree(MemorySegment cell) {
    synchronized (FREE) {
      return FREE.stream().anyMatch(free -> free == cell);
    }
  }
}
