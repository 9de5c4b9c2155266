package dev.easel.core.format.pytorch;

import dev.easel.api.format.ModelFormatException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * The central directory of a zip file read straight from a {@link FileChannel}, with every entry's data position,
 * so that STORED entries (all of {@code torch.save}'s) can be memory-mapped where they lie instead of copied.
 *
 * <p>{@code java.util.zip.ZipFile} hides entry offsets and {@code ZipInputStream} refuses STORED entries with data
 * descriptors, which torch writes; hence this small reader. ZIP64 is supported (torch always enables it). Every
 * offset and size is checked against the file length before use.
 */
final class ZipDirectory {
    private static final int EOCD_SIG = 0x06054b50;
    private static final int EOCD64_LOCATOR_SIG = 0x07064b50;
    private static final int EOCD64_SIG = 0x06064b50;
    private static final int CEN_SIG = 0x02014b50;
    private static final int LOC_SIG = 0x04034b50;
    /** More entries than any checkpoint has; stops a hostile directory from making us loop for long. */
    private static final long MAX_ENTRIES = 1_000_000;

    /** One entry: where its data lies and how it is stored. */
    record Entry(String name, int method, long compressedSize, long size, long localHeaderOffset, long crc) {
        boolean stored() {
            return method == 0;
        }
    }

    private final Path file;
    private final FileChannel channel;
    private final long length;
    private final Map<String, Entry> entries;

    private ZipDirectory(Path file, FileChannel channel, long length, Map<String, Entry> entries) {
        this.file = file;
        this.channel = channel;
        this.length = length;
        this.entries = entries;
    }

    /** Reads the directory; the channel stays owned by the caller. */
    static ZipDirectory read(Path file, FileChannel channel) throws IOException {
        long length = channel.size();
        if (length < 22) {
            throw new ModelFormatException(file, "truncated zip file (" + length + " bytes)");
        }
        int tail = (int) Math.min(length, 65_535 + 22);
        ByteBuffer end = readAt(channel, length - tail, tail);
        int eocd = -1;
        for (int i = tail - 22; i >= 0; i--) {
            if (end.getInt(i) == EOCD_SIG) {
                eocd = i;
                break;
            }
        }
        if (eocd < 0) {
            throw new ModelFormatException(file, "truncated or corrupt zip file: no end-of-directory record");
        }
        long count = end.getShort(eocd + 10) & 0xffffL;
        long cenSize = end.getInt(eocd + 12) & 0xffffffffL;
        long cenOffset = end.getInt(eocd + 16) & 0xffffffffL;
        long eocdPos = length - tail + eocd;
        if (count == 0xffff || cenSize == 0xffffffffL || cenOffset == 0xffffffffL) {
            if (eocdPos < 20) {
                throw new ModelFormatException(file, "corrupt zip file: ZIP64 locator missing");
            }
            ByteBuffer loc = readAt(channel, eocdPos - 20, 20);
            if (loc.getInt(0) != EOCD64_LOCATOR_SIG) {
                throw new ModelFormatException(file, "corrupt zip file: ZIP64 locator missing");
            }
            long eocd64 = loc.getLong(8);
            if (eocd64 < 0 || eocd64 + 56 > length) {
                throw new ModelFormatException(file, "corrupt zip file: ZIP64 record outside the file");
            }
            ByteBuffer rec = readAt(channel, eocd64, 56);
            if (rec.getInt(0) != EOCD64_SIG) {
                throw new ModelFormatException(file, "corrupt zip file: bad ZIP64 end record");
            }
            count = rec.getLong(32);
            cenSize = rec.getLong(40);
            cenOffset = rec.getLong(48);
        }
        if (count < 0 || count > MAX_ENTRIES || cenSize < 0 || cenOffset < 0 || cenOffset + cenSize > length
                || cenSize > Integer.MAX_VALUE || count * 46 > cenSize) {
            throw new ModelFormatException(file, "truncated or corrupt zip file: central directory of " + count
                    + " entries at " + cenOffset + " (+" + cenSize + " bytes) does not fit a " + length
                    + "-byte file");
        }
        ByteBuffer cen = readAt(channel, cenOffset, (int) cenSize);
        Map<String, Entry> entries = new LinkedHashMap<>();
        int p = 0;
        for (long i = 0; i < count; i++) {
            if (p + 46 > cenSize || cen.getInt(p) != CEN_SIG) {
                throw new ModelFormatException(file, "corrupt zip file: bad central directory entry " + i);
            }
            int method = cen.getShort(p + 10) & 0xffff;
            long crc = cen.getInt(p + 16) & 0xffffffffL;
            long csize = cen.getInt(p + 20) & 0xffffffffL;
            long usize = cen.getInt(p + 24) & 0xffffffffL;
            int nameLen = cen.getShort(p + 28) & 0xffff;
            int extraLen = cen.getShort(p + 30) & 0xffff;
            int commentLen = cen.getShort(p + 32) & 0xffff;
            long lho = cen.getInt(p + 42) & 0xffffffffL;
            if (p + 46L + nameLen + extraLen + commentLen > cenSize) {
                throw new ModelFormatException(file, "corrupt zip file: central directory entry " + i
                        + " runs past the directory");
            }
            byte[] nameBytes = new byte[nameLen];
            cen.get(p + 46, nameBytes);
            String name = new String(nameBytes, StandardCharsets.UTF_8);
            int x = p + 46 + nameLen;
            int xEnd = x + extraLen;
            while (x + 4 <= xEnd) {
                int id = cen.getShort(x) & 0xffff;
                int len = cen.getShort(x + 2) & 0xffff;
                int q = x + 4;
                if (id == 0x0001) {
                    if (usize == 0xffffffffL && q + 8 <= x + 4 + len) {
                        usize = cen.getLong(q);
                        q += 8;
                    }
                    if (csize == 0xffffffffL && q + 8 <= x + 4 + len) {
                        csize = cen.getLong(q);
                        q += 8;
                    }
                    if (lho == 0xffffffffL && q + 8 <= x + 4 + len) {
                        lho = cen.getLong(q);
                    }
                }
                x += 4 + len;
            }
            if (csize < 0 || usize < 0 || lho < 0 || lho + 30 > length || lho + 30 + csize > length) {
                throw new ModelFormatException(file, "truncated or corrupt zip file: entry '" + name
                        + "' lies outside the file");
            }
            if (method != 0 && method != 8) {
                throw new ModelFormatException(file, "zip entry '" + name + "' uses unsupported compression method "
                        + method);
            }
            if (method == 0 && csize != usize) {
                throw new ModelFormatException(file, "corrupt zip file: stored entry '" + name
                        + "' has different sizes");
            }
            if (entries.put(name, new Entry(name, method, csize, usize, lho, crc)) != null) {
                throw new ModelFormatException(file, "corrupt zip file: entry '" + name + "' appears twice");
            }
            p += 46 + nameLen + extraLen + commentLen;
        }
        return new ZipDirectory(file, channel, length, Collections.unmodifiableMap(entries));
    }

    /** Entries by name, in directory order. */
    Map<String, Entry> entries() {
        return entries;
    }

    /** File position of an entry's data (after its local header). */
    long dataPosition(Entry e) throws IOException {
        ByteBuffer loc = readAt(channel, e.localHeaderOffset(), 30);
        if (loc.getInt(0) != LOC_SIG) {
            throw new ModelFormatException(file, "corrupt zip file: bad local header of '" + e.name() + "'");
        }
        int nameLen = loc.getShort(26) & 0xffff;
        int extraLen = loc.getShort(28) & 0xffff;
        long pos = e.localHeaderOffset() + 30 + nameLen + extraLen;
        if (pos + e.compressedSize() > length) {
            throw new ModelFormatException(file, "truncated zip file: entry '" + e.name() + "' needs "
                    + e.compressedSize() + " bytes from " + pos + " but the file has " + length);
        }
        return pos;
    }

    /**
     * An entry's whole content on the heap (small entries such as {@code data.pkl}). Deflated entries may expand
     * to at most {@code maxSize}; their declared size is checked against that cap before anything is allocated.
     */
    ByteBuffer readAll(Entry e, long maxSize) throws IOException {
        if (e.size() > maxSize || e.size() > Integer.MAX_VALUE - 8) {
            throw new ModelFormatException(file, "zip entry '" + e.name() + "' declares " + e.size()
                    + " bytes, more than the " + maxSize + " allowed");
        }
        long pos = dataPosition(e);
        if (e.stored()) {
            return readAt(channel, pos, (int) e.size());
        }
        if (e.compressedSize() > Integer.MAX_VALUE) {
            throw new ModelFormatException(file, "zip entry '" + e.name() + "' is too large to inflate");
        }
        // Deflate expands at most ~1032:1; a larger declared ratio is a lie meant to make us allocate.
        if (e.size() > e.compressedSize() * 1032 + 1024) {
            throw new ModelFormatException(file, "corrupt zip entry '" + e.name() + "': declared size "
                    + e.size() + " is impossible for " + e.compressedSize() + " compressed bytes");
        }
        ByteBuffer in = readAt(channel, pos, (int) e.compressedSize());
        Inflater inflater = new Inflater(true);
        try {
            inflater.setInput(in);
            byte[] out = new byte[(int) e.size()];
            int n = 0;
            while (n < out.length && !inflater.finished()) {
                int k = inflater.inflate(out, n, out.length - n);
                if (k == 0 && (inflater.needsInput() || inflater.needsDictionary())) {
                    break;
                }
                n += k;
            }
            if (n != out.length) {
                throw new ModelFormatException(file, "corrupt zip entry '" + e.name() + "': inflates to " + n
                        + " bytes, the directory says " + e.size());
            }
            return ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
        } catch (DataFormatException ex) {
            throw new ModelFormatException(file, "corrupt zip entry '" + e.name() + "': " + ex.getMessage());
        } finally {
            inflater.end();
        }
    }

    static ByteBuffer readAt(FileChannel channel, long position, int size) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        long pos = position;
        while (buf.hasRemaining()) {
            int n = channel.read(buf, pos);
            if (n < 0) {
                throw new java.io.EOFException("unexpected end of file at byte " + pos);
            }
            pos += n;
        }
        return buf.flip();
    }
}
