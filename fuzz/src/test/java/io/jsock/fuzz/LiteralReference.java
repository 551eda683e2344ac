package io.jsock.fuzz;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * What {@code inet_pton} and {@code inet_ntop} make of IP address text on Linux (glibc, and so
 * Python), written from the grammar rather than glibc's character-at-a-time state machine, which
 * jsock's own parser follows.
 */
final class LiteralReference {
  private static final String OCTET = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])";
  private static final Pattern DOTTED_QUAD =
      Pattern.compile(OCTET + "\\." + OCTET + "\\." + OCTET + "\\." + OCTET);
  private static final Pattern HEX_GROUP = Pattern.compile("[0-9a-fA-F]{1,4}");

  private LiteralReference() {}

  /** inet_pton(AF_INET): four decimal octets without leading zeros, or null. */
  static byte[] ipv4(String text) {
    var m = DOTTED_QUAD.matcher(text);
    if (!m.matches()) {
      return null;
    }
    byte[] raw = new byte[4];
    for (int i = 0; i < 4; i++) {
      raw[i] = (byte) Integer.parseInt(m.group(i + 1));
    }
    return raw;
  }

  /**
   * inet_pton(AF_INET6): eight hex groups of one to four digits, or fewer around one {@code ::}
   * that stands for at least one zero group; the last two groups may be a dotted quad. Or null.
   */
  static byte[] ipv6(String text) {
    String groups = text;
    byte[] ipv4 = null;
    if (text.indexOf('.') >= 0) {
      int lastColon = text.lastIndexOf(':');
      if (lastColon < 0 || (ipv4 = ipv4(text.substring(lastColon + 1))) == null) {
        return null;
      }
      groups = text.substring(0, lastColon + 1) + "0:0"; // two groups the dotted quad fills
    }
    int gap = groups.indexOf("::");
    List<Integer> left;
    List<Integer> right;
    if (gap < 0) {
      left = hexGroups(groups);
      right = List.of();
      if (left == null || left.size() != 8) {
        return null;
      }
    } else {
      if (groups.indexOf("::", gap + 1) >= 0) {
        return null; // a second "::" (":::" included)
      }
      left = hexGroups(groups.substring(0, gap));
      right = hexGroups(groups.substring(gap + 2));
      if (left == null || right == null || left.size() + right.size() > 7) {
        return null;
      }
    }
    byte[] raw = new byte[16];
    for (int i = 0; i < left.size(); i++) {
      put(raw, i, left.get(i));
    }
    for (int i = 0; i < right.size(); i++) {
      put(raw, 8 - right.size() + i, right.get(i));
    }
    if (ipv4 != null) {
      System.arraycopy(ipv4, 0, raw, 12, 4);
    }
    return raw;
  }

  /**
   * inet_ntop(AF_INET6) as glibc writes it: lower-case hex without leading zeros; the longest run
   * of two or more zero groups, the first of equals, as {@code ::}; a dotted quad in the last 32
   * bits when the first six groups are zero, or the first five and then ffff.
   */
  static String ipv6Text(byte[] raw) {
    int[] words = new int[8];
    for (int i = 0; i < 8; i++) {
      words[i] = ((raw[2 * i] & 0xFF) << 8) | (raw[2 * i + 1] & 0xFF);
    }
    int bestBase = -1;
    int bestLen = 0;
    for (int i = 0; i < 8; i++) {
      int len = 0;
      while (i + len < 8 && words[i + len] == 0) {
        len++;
      }
      if (len >= 2 && len > bestLen) {
        bestBase = i;
        bestLen = len;
      }
    }
    String quad =
        (raw[12] & 0xFF) + "." + (raw[13] & 0xFF) + "." + (raw[14] & 0xFF) + "." + (raw[15] & 0xFF);
    if (bestBase == 0 && bestLen == 6) {
      return "::" + quad;
    }
    if (bestBase == 0 && bestLen == 5 && words[5] == 0xFFFF) {
      return "::ffff:" + quad;
    }
    List<String> parts = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      if (i == bestBase) {
        parts.add("");
        i += bestLen - 1;
        continue;
      }
      parts.add(Integer.toHexString(words[i]));
    }
    String text = String.join(":", parts);
    if (bestBase == 0) {
      text = ":" + text;
    }
    if (bestBase >= 0 && bestBase + bestLen == 8) {
      text = text + ":";
    }
    return text;
  }

  private static List<Integer> hexGroups(String text) {
    List<Integer> groups = new ArrayList<>();
    if (text.isEmpty()) {
      return groups;
    }
    for (String group : text.split(":", -1)) {
      if (!HEX_GROUP.matcher(group).matches()) {
        return null;
      }
      groups.add(Integer.parseInt(group, 16));
    }
    return groups;
  }

  private static void put(byte[] raw, int group, int value) {
    raw[2 * group] = (byte) (value >>> 8);
    raw[2 * group + 1] = (byte) value;
  }
}
