package dev.easel.core.format.safetensors;

import dev.easel.api.format.ModelFormatException;
import dev.easel.api.tensor.TensorInfo;
import dev.easel.api.tensor.TensorSource;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;

/**
 * A safetensors file opened for lazy reading: the header is read and checked when it opens, and each tensor is
 * memory-mapped only when {@link #read(String)} asks for it.
 *
 * <p>Mapping per tensor instead of the whole file keeps files larger than 2 GB readable (a Java mapping is at most
 * 2 GB) and costs no heap: a read is a view of the page cache, so a 4 GB checkpoint is read with flat resident
 * memory. Reads are safe from several threads at once (the channel's {@code map} is thread-safe and the header is
 * immutable).
 */
public final class SafetensorsReader implements TensorSource {
    /** The format id this reader reports. */
    public static final String FORMAT_ID = "format/safetensors";

    private final Path file;
    private final FileChannel channel;
    private final SafetensorsHeader header;
    private final List<TensorInfo> tensors;
    private final Map<String, SafetensorsHeader.Entry> byName;

    private SafetensorsReader(Path file, FileChannel channel, SafetensorsHeader header) {
        this.file = file;
        this.channel = channel;
        this.header = header;
        List<TensorInfo> list = new ArrayList<>(header.entries().size());
        Map<String, SafetensorsHeader.Entry> map = new HashMap<>(header.entries().size() * 2);
        for (SafetensorsHeader.Entry e : header.entries()) {
            list.add(e.info());
            map.put(e.info().name(), e);
        }
        this.tensors = Collections.unmodifiableList(list);
        this.byName = map;
    }

    /**
     * Opens and validates a file.
     *
     * @throws ModelFormatException naming the file and the broken rule
     */
    public static SafetensorsReader open(Path file) throws IOException {
        FileChannel channel;
        try {
            channel = FileChannel.open(file, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new ModelFormatException(file, "no such file");
        } catch (IOException e) {
            throw new ModelFormatException(file, "cannot be opened: " + e.getMessage(), e);
        }
        try {
            return new SafetensorsReader(file, channel, SafetensorsHeader.read(file, channel));
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e instanceof ModelFormatException m ? m
                    : new ModelFormatException(file, "cannot be read as safetensors: " + e.getMessage(), e);
        }
    }

    @Override
    public Path location() {
        return file;
    }

    @Override
    public String formatId() {
        return FORMAT_ID;
    }

    @Override
    public Map<String, String> metadata() {
        return header.metadata();
    }

    @Override
    public List<TensorInfo> tensors() {
        return tensors;
    }

    @Override
    public Optional<TensorInfo> info(String name) {
        SafetensorsHeader.Entry e = byName.get(name);
        return e == null ? Optional.empty() : Optional.of(e.info());
    }

    /** File position of the first byte of a tensor's data (for tools that copy raw ranges). */
    public long dataPosition(String name) {
        return header.dataStart() + entry(name).begin();
    }

    @Override
    public ByteBuffer read(String name) throws IOException {
        SafetensorsHeader.Entry e = entry(name);
        long size = e.end() - e.begin();
        if (size > Integer.MAX_VALUE) {
            throw new ModelFormatException(file, "tensor '" + name + "' is " + size
                    + " bytes, more than one buffer can hold (2 GB)");
        }
        if (size == 0) {
            return ByteBuffer.allocate(0).order(ByteOrder.LITTLE_ENDIAN).asReadOnlyBuffer();
        }
        try {
            return channel.map(FileChannel.MapMode.READ_ONLY, header.dataStart() + e.begin(), size)
                    .order(ByteOrder.LITTLE_ENDIAN);
        } catch (ClosedChannelException ex) {
            throw new ModelFormatException(file, "tensor '" + name + "' read after the file was closed", ex);
        } catch (IOException ex) {
            throw new ModelFormatException(file, "tensor '" + name + "' cannot be read: " + ex.getMessage(), ex);
        }
    }

    private SafetensorsHeader.Entry entry(String name) {
        SafetensorsHeader.Entry e = byName.get(name);
        if (e == null) {
            throw new NoSuchElementException(file + ": no tensor '" + name + "'");
        }
        return e;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
