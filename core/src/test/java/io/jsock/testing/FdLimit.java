package io.jsock.testing;

import java.io.FileInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.stream.Stream;

/**
 * For a child JVM's main run under {@code ulimit -n} (StartsAtTheFdLimit, the lookups at the
 * limit): loads jsock's classes while descriptors are free, then takes every one that is left.
 */
public final class FdLimit {
  private FdLimit() {}

  /**
   * Loads every class of jsock's own ({@code target/classes}) while descriptors are free: the class
   * loader opens each class file, which at the limit it could not.
   */
  public static void loadJsockClasses(ClassLoader loader)
      throws IOException, ClassNotFoundException {
    Path classes = Path.of("target/classes");
    try (Stream<Path> files = Files.walk(classes.resolve("io/jsock"))) {
      for (Path file : files.filter(f -> f.toString().endsWith(".class")).toList()) {
        String name = classes.relativize(file).toString().replace('/', '.');
        Class.forName(name.substring(0, name.length() - ".class".length()), false, loader);
      }
    }
  }

  /**
   * Opens {@code /dev/null} until the process's limit refuses: every free descriptor, held by the
   * streams returned (pop one to free it; {@link #release} frees them all).
   */
  public static Deque<FileInputStream> takeEveryDescriptor() {
    Deque<FileInputStream> held = new ArrayDeque<>();
    for (int i = 0; i < 100_000; i++) { // the shell's limit ends it far sooner
      try {
        held.push(new FileInputStream("/dev/null"));
      } catch (IOException full) {
        break;
      }
    }
    return held;
  }

  /** Closes every stream {@link #takeEveryDescriptor} took and has not been popped since. */
  public static void release(Deque<FileInputStream> held) throws IOException {
    for (FileInputStream file : held) {
      file.close();
    }
  }
}
