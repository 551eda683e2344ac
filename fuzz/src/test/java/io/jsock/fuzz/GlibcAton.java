package io.jsock.fuzz;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * What Python's {@code socket.inet_aton} answers, taken from where Python takes it: glibc's {@code
 * inet_aton(3)}, called through the FFM API with the text's UTF-8 bytes, as CPython passes them.
 */
final class GlibcAton {
  private static final MethodHandle INET_ATON =
      Linker.nativeLinker()
          .downcallHandle(
              Linker.nativeLinker()
                  .defaultLookup()
                  .find("inet_aton")
                  .orElseThrow(() -> new IllegalStateException("no inet_aton in the C library")),
              FunctionDescriptor.of(
                  ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS));

  private GlibcAton() {}

  /**
   * The four bytes (network order) glibc parses from {@code text}, or null where it refuses, or
   * where Python raises before calling it (an embedded NUL). glibc stops at the first white space
   * and ignores the rest ({@code "1.2.3.4 junk"}); jsock refuses such text (documented on {@code
   * Sockets.inetAton}), so this answers null for any text with white space in it.
   */
  static byte[] inetAton(String text) {
    if (text.indexOf('\0') >= 0 || text.chars().anyMatch(GlibcAton::isCSpace)) {
      return null;
    }
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment address = arena.allocate(4);
      int ok = (int) INET_ATON.invokeExact(arena.allocateFrom(text), address);
      return ok == 0 ? null : address.toArray(ValueLayout.JAVA_BYTE);
    } catch (Throwable e) {
      throw new AssertionError("inet_aton failed to run", e);
    }
  }

  /** C's {@code isspace} in the C locale. */
  private static boolean isCSpace(int c) {
    return c == ' ' || (c >= '\t' && c <= '\r');
  }
}
