package io.jsock.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * A few direct buffers that {@code recv(bufsize)} reads into before copying out exactly the bytes
 * that came, and that {@code send(byte[])} of a small message copies it into before sending, shared
 * by every socket in the JVM. Each is kept with its memory's address, which the system call takes
 * as it is: a call on one allocates nothing.
 *
 * <p>A buffer is held only across one non-blocking read, never across a wait, so a handful serve
 * any number of connections: a waiting connection holds no buffer at all, which is what keeps an
 * idle connection small, and a message costs one array of its own length instead of one of the
 * caller's {@code bufsize}. When every slot is taken (more threads reading at this instant than
 * slots), the caller reads the way it would without a pool.
 */
public final class ScratchBuffers {
  /** The size of each buffer: a read through the pool returns at most this many bytes. */
  public static final int SIZE = 64 * 1024;

  private static final AtomicReferenceArray<Scratch> SLOTS =
      new AtomicReferenceArray<>(Math.max(4, 2 * Runtime.getRuntime().availableProcessors()));

  private static final AtomicInteger CREATED = new AtomicInteger();

  private ScratchBuffers() {}

  /**
   * One scratch buffer and its memory's address, which {@link StreamCalls} pass to the system call
   * as it is (a direct buffer's address is otherwise found through a new segment per call).
   */
  public record Scratch(ByteBuffer buffer, long address) {
    private static Scratch allocate() {
      MemorySegment memory = Arena.global().allocate(SIZE, 64); // held for the JVM's life
      return new Scratch(memory.asByteBuffer(), memory.address());
    }
  }

  /** A buffer of {@link #SIZE} bytes, cleared, or {@code null} when none is free. */
  public static Scratch take() {
    int slots = SLOTS.length();
    int first = (int) (Thread.currentThread().threadId() % slots);
    for (int i = 0; i < slots; i++) {
      int slot = (first + i) % slots;
      Scratch scratch = SLOTS.getAndSet(slot, null);
      if (scratch != null) {
        scratch.buffer.clear();
        return scratch;
      }
    }
    // Buffers are made when first needed, never more than there are slots.
    if (CREATED.get() < slots && CREATED.incrementAndGet() <= slots) {
      return Scratch.allocate();
    }
    return null;
  }

  /** Gives a buffer from {@link #take()} back. */
  public static void give(Scratch scratch) {
    int slots = SLOTS.length();
    int first = (int) (Thread.currentThread().threadId() % slots);
    for (int i = 0; i < slots; i++) {
      if (SLOTS.compareAndSet((first + i) % slots, null, scratch)) {
        return;
      }
    }
    // not reached: there are never more buffers than slots
  }
}
