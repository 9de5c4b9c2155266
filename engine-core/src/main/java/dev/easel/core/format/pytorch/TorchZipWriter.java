package dev.easel.core.format.pytorch;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32;

/**
 * Writes zip entries the way {@code torch.save}'s {@code PyTorchStreamWriter} does: STORED, each entry's data on a
 * 64-byte boundary (padding in an {@code FB} extra field, so readers can map tensors in place), ZIP64 records when
 * sizes or offsets need them. Entries are appended sequentially; the central directory is written by
 * {@link #finish()}.
 */
final class TorchZipWriter {
    private static final int ALIGNMENT = 64;

    private record Written(byte[] name, long crc, long size, long offset) {
    }

    private final FileChannel channel;
    private final List<Written> written = new ArrayList<>();
    private long position;

    TorchZipWriter(FileChannel channel) {
        this.channel = channel;
    }

    /** Appends one entry holding {@code data} (position to limit; not consumed). */
    void add(String name, ByteBuffer data) throws IOException {
        ByteBuffer src = data.duplicate();
        CRC32 crc = new CRC32();
        crc.update(src.duplicate());
        long size = src.remaining();
        byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
        boolean zip64 = size >= 0xffffffffL || position >= 0xffffffffL;
        int zip64Extra = zip64 ? 20 : 0;
        long dataStart = position + 30 + nameBytes.length + zip64Extra + 4;
        int pad = (int) ((ALIGNMENT - dataStart % ALIGNMENT) % ALIGNMENT);
        ByteBuffer h = ByteBuffer.allocate(30 + nameBytes.length + zip64Extra + 4 + pad).order(ByteOrder.LITTLE_ENDIAN);
        h.putInt(0x04034b50).putShort((short) (zip64 ? 45 : 20)).putShort((short) 0).putShort((short) 0)
                .putShort((short) 0).putShort((short) 0x21).putInt((int) crc.getValue())
                .putInt(zip64 ? -1 : (int) size).putInt(zip64 ? -1 : (int) size)
                .putShort((short) nameBytes.length).putShort((short) (zip64Extra + 4 + pad)).put(nameBytes);
        if (zip64) {
            h.putShort((short) 1).putShort((short) 16).putLong(size).putLong(size);
        }
        h.put((byte) 'F').put((byte) 'B').putShort((short) pad);
        for (int i = 0; i < pad; i++) {
            h.put((byte) 'Z');
        }
        h.flip();
        written.add(new Written(nameBytes, crc.getValue(), size, position));
        writeFully(h);
        writeFully(src);
    }

    /** Writes the central directory and end records. */
    void finish() throws IOException {
        long cenStart = position;
        for (Written w : written) {
            boolean zip64 = w.size() >= 0xffffffffL || w.offset() >= 0xffffffffL;
            ByteBuffer c = ByteBuffer.allocate(46 + w.name().length + (zip64 ? 28 : 0)).order(ByteOrder.LITTLE_ENDIAN);
            c.putInt(0x02014b50).putShort((short) (zip64 ? 45 : 20)).putShort((short) (zip64 ? 45 : 20))
                    .putShort((short) 0).putShort((short) 0).putShort((short) 0).putShort((short) 0x21)
                    .putInt((int) w.crc()).putInt(zip64 ? -1 : (int) w.size()).putInt(zip64 ? -1 : (int) w.size())
                    .putShort((short) w.name().length).putShort((short) (zip64 ? 28 : 0)).putShort((short) 0)
                    .putShort((short) 0).putShort((short) 0).putInt(0).putInt(zip64 ? -1 : (int) w.offset())
                    .put(w.name());
            if (zip64) {
                c.putShort((short) 1).putShort((short) 24).putLong(w.size()).putLong(w.size()).putLong(w.offset());
            }
            writeFully(c.flip());
        }
        long cenSize = position - cenStart;
        boolean zip64 = written.size() >= 0xffff || cenStart >= 0xffffffffL || cenSize >= 0xffffffffL;
        if (zip64) {
            long eocd64 = position;
            ByteBuffer e = ByteBuffer.allocate(56 + 20).order(ByteOrder.LITTLE_ENDIAN);
            e.putInt(0x06064b50).putLong(44).putShort((short) 45).putShort((short) 45).putInt(0).putInt(0)
                    .putLong(written.size()).putLong(written.size()).putLong(cenSize).putLong(cenStart);
            e.putInt(0x07064b50).putInt(0).putLong(eocd64).putInt(1);
            writeFully(e.flip());
        }
        ByteBuffer end = ByteBuffer.allocate(22).order(ByteOrder.LITTLE_ENDIAN);
        int count = (int) Math.min(written.size(), 0xffff);
        end.putInt(0x06054b50).putShort((short) 0).putShort((short) 0).putShort((short) count)
                .putShort((short) count).putInt(zip64 ? -1 : (int) cenSize).putInt(zip64 ? -1 : (int) cenStart)
                .putShort((short) 0);
        writeFully(end.flip());
    }

    private void writeFully(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            position += channel.write(b, position);
        }
    }
}
