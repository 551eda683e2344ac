package io.jsock.internal;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * The C library's text for an error number in this process's message language ({@code
 * strerror(3)}), which the JDK puts in its exceptions' messages: under {@code LANGUAGE=de} a
 * refused connect is "Verbindungsaufbau abgelehnt", not "Connection refused". Only where jsock has
 * native access on Linux; elsewhere none is known.
 */
final class ErrorTexts {
  /** {@code char *strerror(int errnum)}, or null where it cannot be called. */
  private static final MethodHandle STRERROR = strerror();

  /** How the JDK decodes the C library's texts. */
  private static final Charset PLATFORM =
      Charset.forName(System.getProperty("sun.jnu.encoding", "UTF-8"), StandardCharsets.UTF_8);

  private ErrorTexts() {}

  /** The text for {@code errno}, in lower case, or null when it cannot be asked. */
  static String of(int errno) {
    if (STRERROR == null) {
      return null;
    }
    try {
      MemorySegment text = (MemorySegment) STRERROR.invokeExact(errno);
      if (text.equals(MemorySegment.NULL)) {
        return null;
      }
      // a C string of the library's: scanned up to its NUL, which comes well within this length
      return text.reinterpret(4096).getString(0, PLATFORM).toLowerCase(Locale.ROOT);
    } catch (Throwable e) {
      return null; // the texts stay the English ones
    }
  }

  private static MethodHandle strerror() {
    if (!System.getProperty("os.name", "").equals("Linux")
        || !ErrorTexts.class.getModule().isNativeAccessEnabled()) {
      return null;
    }
    try {
      Linker linker = Linker.nativeLinker();
      return linker.downcallHandle(
          linker.defaultLookup().find("strerror").orElseThrow(),
          FunctionDescriptor.of(ADDRESS, JAVA_INT));
    } catch (RuntimeException e) {
      return null;
    }
  }
}
