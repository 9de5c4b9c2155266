package dev.easel.core.format.safetensors;

import dev.easel.api.tensor.TensorInfo;
import dev.easel.api.tensor.WritePlan;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Where each tensor of a {@link WritePlan} goes in the file and the exact header bytes, as the reference writer
 * ({@code safetensors/src/tensor.rs} {@code prepare} and {@code serialize}) computes them: tensors sorted by dtype
 * (widest alignment first) then by name byte-wise, offsets back to back, compact JSON with {@code __metadata__}
 * first and fields {@code dtype, shape, data_offsets}, serde_json string escaping, spaces padding the header to a
 * multiple of 8.
 *
 * <p>The reference writer stores metadata in a hash map, so its key order is not reproducible; Easel sorts the
 * keys, which readers accept in any order.
 */
final class SafetensorsLayout {
    /** One placed tensor. */
    record Slot(TensorInfo info, long begin, long end) {
        long size() {
            return end - begin;
        }
    }

    private final List<Slot> slots;
    private final Map<String, Slot> byName;
    private final byte[] header;

    private SafetensorsLayout(List<Slot> slots, byte[] header) {
        this.slots = slots;
        this.header = header;
        Map<String, Slot> map = new HashMap<>(slots.size() * 2);
        for (Slot s : slots) {
            map.put(s.info().name(), s);
        }
        this.byName = map;
    }

    /** Lays a plan out. */
    static SafetensorsLayout of(WritePlan plan) {
        List<TensorInfo> sorted = new ArrayList<>(plan.tensors());
        sorted.sort(Comparator.comparingInt((TensorInfo t) -> -SafetensorsDTypes.rank(t.dtype()))
                .thenComparing(TensorInfo::name, SafetensorsLayout::compareUtf8));
        List<Slot> slots = new ArrayList<>(sorted.size());
        long offset = 0;
        for (TensorInfo t : sorted) {
            long end = Math.addExact(offset, t.byteSize());
            slots.add(new Slot(t, offset, end));
            offset = end;
        }
        StringBuilder json = new StringBuilder(64 + 96 * slots.size());
        json.append('{');
        boolean first = true;
        if (!plan.metadata().isEmpty()) {
            json.append("\"__metadata__\":{");
            boolean firstMeta = true;
            for (Map.Entry<String, String> e : new TreeMap<>(plan.metadata()).entrySet()) {
                if (!firstMeta) {
                    json.append(',');
                }
                firstMeta = false;
                appendString(json, e.getKey());
                json.append(':');
                appendString(json, e.getValue());
            }
            json.append('}');
            first = false;
        }
        for (Slot s : slots) {
            if (!first) {
                json.append(',');
            }
            first = false;
            appendString(json, s.info().name());
            json.append(":{\"dtype\":\"").append(s.info().dtype().name()).append("\",\"shape\":[");
            long[] shape = s.info().shape();
            for (int i = 0; i < shape.length; i++) {
                if (i > 0) {
                    json.append(',');
                }
                json.append(shape[i]);
            }
            json.append("],\"data_offsets\":[").append(s.begin()).append(',').append(s.end()).append("]}");
        }
        json.append('}');
        byte[] utf8 = json.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (utf8.length + 7) / 8 * 8;
        byte[] header = Arrays.copyOf(utf8, padded);
        Arrays.fill(header, utf8.length, padded, (byte) ' ');
        return new SafetensorsLayout(Collections.unmodifiableList(slots), header);
    }

    /** The tensors in file order. */
    List<Slot> slots() {
        return slots;
    }

    /** The slot of a planned tensor, or null. */
    Slot slot(String name) {
        return byName.get(name);
    }

    /** The padded JSON header (without the 8-byte length in front). */
    byte[] header() {
        return header.clone();
    }

    /** Header length as written in the first 8 bytes. */
    long headerLength() {
        return header.length;
    }

    /** Total file size. */
    long fileSize() {
        long data = slots.isEmpty() ? 0 : slots.get(slots.size() - 1).end();
        return 8 + header.length + data;
    }

    /** Rust compares strings by their UTF-8 bytes; Java's {@code compareTo} by UTF-16 units, which differs. */
    static int compareUtf8(String a, String b) {
        return Arrays.compareUnsigned(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
    }

    /** serde_json's escaping: quote, backslash and control characters only; everything else raw UTF-8. */
    static void appendString(StringBuilder out, String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
