package io.jsock.internal;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * A few direct buffers that {@code recv(bufsize)} reads into before copying out exactly the bytes
 * that came, shared by every socket in the JVM.
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

  private static final AtomicReferenceArray<ByteBuffer> SLOTS =
      new AtomicReferenceArray<>(Math.max(4, 2 * Runtime.getRuntime().availableProcessors()));

  private static final AtomicInteger CREATED = new AtomicInteger();

  private ScratchBuffers() {}

  /** A cleared buffer of {@link #SIZE} bytes, or {@code null} when none is free. */
  public static ByteBuffer take() {
    int slots = SLOTS.length();
    int first = (int) (Thread.currentThread().threadId() % slots);
    for (int i = 0; i < slots; i++) {
      int slot = (first + i) % slots;
      ByteBuffer buffer = SLOTS.getAndSet(slot, null);
      if (buffer != null) {
        return buffer.clear();
      }
    }
    // Buffers are made when first needed, never more than there are slots.
    if (CREATED.get() < slots && CREATED.incrementAndGet() <= slots) {
      return ByteBuffer.allocateDirect(SIZE);
    }
    return null;
  }

  /** Gives a buffer from {@link #take()} back. */
  public static void give(ByteBuffer buffer) {
    int slots = SLOTS.length();
    int first = (int) (Thread.currentThread().threadId() % slots);
    for (int i = 0; i < slots; i++) {
      if (SLOTS.compareAndSet((first + i) % slots, null, buffer)) {
        return;
      }
    }
    // not reached: there are never more buffers than slots
  }
}
