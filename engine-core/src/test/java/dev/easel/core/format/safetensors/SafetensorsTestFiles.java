package dev.easel.core.format.safetensors;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Helpers to copy fixtures and to hand-craft (possibly broken) safetensors files. */
final class SafetensorsTestFiles {
    private SafetensorsTestFiles() {
    }

    /** Copies a fixture from {@code formats/safetensors/} into a folder. */
    static Path fixture(String name, Path dir) throws IOException {
        Path target = dir.resolve(name);
        try (InputStream in = SafetensorsTestFiles.class.getResourceAsStream("/formats/safetensors/" + name)) {
            if (in == null) {
                throw new IOException("missing fixture " + name);
            }
            Files.copy(in, target);
        }
        return target;
    }

    /** A file with the given header text (its length written as is) and {@code dataBytes} zero bytes after it. */
    static Path craft(Path dir, String name, String header, int dataBytes) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        return craft(dir, name, h.length, h, dataBytes);
    }

    /** A file whose 8-byte length field says {@code declaredLength}, whatever follows. */
    static Path craft(Path dir, String name, long declaredLength, byte[] header, int dataBytes) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(declaredLength).put(header);
        Path file = dir.resolve(name);
        Files.write(file, b.array());
        return file;
    }
}
