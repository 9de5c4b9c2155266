package dev.easel.core.format.safetensors;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.easel.api.format.ModelFormatException;
import dev.easel.api.tensor.DType;
import dev.easel.api.tensor.TensorInfo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The validated header of one safetensors file: every tensor with its byte range, and the metadata.
 *
 * <p>Applies every rule of the reference reader ({@code safetensors/src/tensor.rs} {@code read_metadata} and
 * {@code validate}) so that a file Easel accepts is one Python would accept too: header at most 100 MB and inside
 * the file, valid UTF-8 JSON starting with <code>{</code>, string-only metadata, exact fields per tensor, known
 * dtypes, and byte ranges that tile the data area exactly (no hole, no overlap, no trailing bytes), each as long
 * as its shape and dtype say. Nothing is allocated from a size in the file before that size is checked against
 * the file's length.
 */
final class SafetensorsHeader {
    /** The reference reader's cap on the JSON header ({@code MAX_HEADER_SIZE}). */
    static final long MAX_HEADER_SIZE = 100_000_000L;
    /** The JSON schema limits shapes and offsets to 48-bit naturals. */
    private static final long MAX_NATURAL = (1L << 48) - 1;
    private static final String METADATA_KEY = "__metadata__";
    private static final Set<String> ENTRY_FIELDS = Set.of("dtype", "shape", "data_offsets");
    private static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build());

    /** One tensor and where its bytes lie, relative to the start of the data area. */
    record Entry(TensorInfo info, long begin, long end) {
    }

    private final List<Entry> entries;
    private final Map<String, String> metadata;
    private final long dataStart;

    private SafetensorsHeader(List<Entry> entries, Map<String, String> metadata, long dataStart) {
        this.entries = entries;
        this.metadata = metadata;
        this.dataStart = dataStart;
    }

    /** Entries in file order (by offset). */
    List<Entry> entries() {
        return entries;
    }

    /** The {@code __metadata__} map, in file order. */
    Map<String, String> metadata() {
        return metadata;
    }

    /** File position of the data area: 8 + header length. */
    long dataStart() {
        return dataStart;
    }

    /** Reads and validates the header of an open file. */
    static SafetensorsHeader read(Path file, FileChannel channel) throws IOException {
        long length = channel.size();
        if (length < 8) {
            throw new ModelFormatException(file, "not a safetensors file: " + length
                    + " bytes, shorter than the 8-byte header length");
        }
        ByteBuffer prefix = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(channel, prefix, 0);
        long headerSize = prefix.getLong(0);
        if (headerSize < 0 || headerSize > MAX_HEADER_SIZE) {
            throw new ModelFormatException(file, "safetensors header length " + Long.toUnsignedString(headerSize)
                    + " exceeds the 100000000-byte limit (corrupt file or not safetensors)");
        }
        if (8 + headerSize > length) {
            throw new ModelFormatException(file, "truncated safetensors file: the header says it is "
                    + headerSize + " bytes but the file holds only " + (length - 8) + " after the length");
        }
        if (headerSize < 2) {
            throw new ModelFormatException(file, "safetensors header of " + headerSize
                    + " bytes is too short to be a JSON object");
        }
        ByteBuffer raw = ByteBuffer.allocate((int) headerSize);
        readFully(channel, raw, 8);
        raw.flip();
        if (raw.get(0) != '{') {
            throw new ModelFormatException(file, "safetensors header does not start with '{'");
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(raw).toString();
        } catch (CharacterCodingException e) {
            throw new ModelFormatException(file, "safetensors header is not valid UTF-8");
        }
        return parse(file, text, 8 + headerSize, length);
    }

    /** Parses and validates header text; {@code dataStart} is 8 + its byte length. */
    static SafetensorsHeader parse(Path file, String text, long dataStart, long fileLength)
            throws ModelFormatException {
        JsonNode root;
        try (JsonParser parser = JSON.createParser(text)) {
            root = JSON.readTree(parser);
            if (parser.nextToken() != null) {
                throw new ModelFormatException(file, "safetensors header has data after its JSON object");
            }
        } catch (JsonProcessingException e) {
            throw new ModelFormatException(file, "safetensors header is not valid JSON: "
                    + e.getOriginalMessage());
        } catch (IOException e) {
            throw new ModelFormatException(file, "safetensors header cannot be parsed: " + e.getMessage());
        }
        if (!(root instanceof ObjectNode object)) {
            throw new ModelFormatException(file, "safetensors header is not a JSON object");
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        List<Entry> entries = new ArrayList<>();
        Iterator<Map.Entry<String, JsonNode>> fields = object.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> field = fields.next();
            if (field.getKey().equals(METADATA_KEY)) {
                readMetadata(file, field.getValue(), metadata);
            } else {
                entries.add(readEntry(file, field.getKey(), field.getValue()));
            }
        }
        entries.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        checkTiling(file, entries, fileLength - dataStart);
        return new SafetensorsHeader(Collections.unmodifiableList(entries),
                Collections.unmodifiableMap(metadata), dataStart);
    }

    private static void readMetadata(Path file, JsonNode node, Map<String, String> into)
            throws ModelFormatException {
        if (node.isNull()) {
            return;
        }
        if (!node.isObject()) {
            throw new ModelFormatException(file, "safetensors __metadata__ is not an object of strings");
        }
        Iterator<Map.Entry<String, JsonNode>> it = node.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isTextual()) {
                throw new ModelFormatException(file, "safetensors __metadata__ value of '" + e.getKey()
                        + "' is not a string");
            }
            into.put(e.getKey(), e.getValue().textValue());
        }
    }

    private static Entry readEntry(Path file, String name, JsonNode node) throws ModelFormatException {
        if (!node.isObject()) {
            throw new ModelFormatException(file, "tensor '" + name + "': header entry is not an object");
        }
        Iterator<String> names = node.fieldNames();
        while (names.hasNext()) {
            String f = names.next();
            if (!ENTRY_FIELDS.contains(f)) {
                throw new ModelFormatException(file, "tensor '" + name + "': unknown header field '" + f + "'");
            }
        }
        JsonNode dtypeNode = node.get("dtype");
        if (dtypeNode == null || !dtypeNode.isTextual()) {
            throw new ModelFormatException(file, "tensor '" + name + "': missing or non-string dtype");
        }
        DType dtype = SafetensorsDTypes.parse(dtypeNode.textValue()).orElseThrow(() -> new ModelFormatException(
                file, "tensor '" + name + "': unknown dtype '" + dtypeNode.textValue() + "'"));
        long[] shape = naturals(file, name, "shape", node.get("shape"), -1);
        long[] offsets = naturals(file, name, "data_offsets", node.get("data_offsets"), 2);
        TensorInfo info = new TensorInfo(name, dtype, shape);
        return new Entry(info, offsets[0], offsets[1]);
    }

    private static long[] naturals(Path file, String name, String field, JsonNode node, int expectedLength)
            throws ModelFormatException {
        if (node == null || !node.isArray() || (expectedLength >= 0 && node.size() != expectedLength)) {
            throw new ModelFormatException(file, "tensor '" + name + "': " + field + " must be an array"
                    + (expectedLength >= 0 ? " of " + expectedLength + " integers" : " of integers"));
        }
        long[] values = new long[node.size()];
        for (int i = 0; i < values.length; i++) {
            JsonNode v = node.get(i);
            if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < 0
                    || v.longValue() > MAX_NATURAL) {
                throw new ModelFormatException(file, "tensor '" + name + "': " + field + " holds " + v
                        + ", not a natural number below 2^48");
            }
            values[i] = v.longValue();
        }
        return values;
    }

    private static void checkTiling(Path file, List<Entry> entries, long dataLength) throws ModelFormatException {
        long expectedBegin = 0;
        for (Entry e : entries) {
            String name = e.info().name();
            if (e.end() < e.begin()) {
                throw new ModelFormatException(file, "tensor '" + name + "': data_offsets [" + e.begin() + ", "
                        + e.end() + "] end before they begin");
            }
            if (e.begin() != expectedBegin) {
                throw new ModelFormatException(file, e.begin() > expectedBegin
                        ? "tensor '" + name + "' starts at data byte " + e.begin() + ", leaving a hole after byte "
                        + expectedBegin
                        : "tensor '" + name + "' overlaps the tensor before it (starts at data byte " + e.begin()
                        + ", previous ends at " + expectedBegin + ")");
            }
            long size;
            try {
                size = e.info().byteSize();
            } catch (ArithmeticException ex) {
                throw new ModelFormatException(file, "tensor '" + name + "': shape "
                        + java.util.Arrays.toString(e.info().shape()) + " of " + e.info().dtype()
                        + " has no valid byte size (" + ex.getMessage() + ")");
            }
            if (e.end() - e.begin() != size) {
                throw new ModelFormatException(file, "tensor '" + name + "': data_offsets span "
                        + (e.end() - e.begin()) + " bytes but shape " + java.util.Arrays.toString(e.info().shape())
                        + " of " + e.info().dtype() + " needs " + size);
            }
            expectedBegin = e.end();
        }
        if (expectedBegin != dataLength) {
            throw new ModelFormatException(file, expectedBegin > dataLength
                    ? "truncated safetensors file: tensors need " + expectedBegin + " data bytes but the file holds "
                    + dataLength
                    : "safetensors file has " + (dataLength - expectedBegin)
                    + " bytes after its last tensor (not covered by the header)");
        }
    }

    private static void readFully(FileChannel channel, ByteBuffer into, long position) throws IOException {
        long pos = position;
        while (into.hasRemaining()) {
            int n = channel.read(into, pos);
            if (n < 0) {
                throw new java.io.EOFException("unexpected end of file at byte " + pos);
            }
            pos += n;
        }
    }
}
