package dev.easel.core.sd.embedding;

import dev.easel.api.tensor.DType;
import dev.easel.api.tensor.TensorInfo;
import dev.easel.api.tensor.TensorSource;
import dev.easel.core.convert.FloatConversion;
import dev.easel.core.format.pytorch.TorchCheckpointReader;
import dev.easel.core.format.safetensors.SafetensorsReader;
import dev.easel.core.sd.model.ModelLoadException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A textual-inversion embedding read from any of the files the ecosystem writes, the way AUTOMATIC1111's loader reads
 * them: an A1111 {@code .pt} ({@code string_to_param} with one entry, also the old {@code ParameterDict} files), a
 * kohya {@code emb_params} file, a diffusers {@code learned_embeds} file ({@code {token: vectors}}), each as a torch
 * file ({@code .pt}, {@code .bin}, {@code .ckpt}) or safetensors; SDXL files ({@code clip_l} + {@code clip_g}) are
 * recognised and refused on SD1/SD2 models. The format is decided by content, never by the extension, and the
 * pickle is read by the restricted unpickler (nothing in the file is executed).
 *
 * <p>The words that call it: the file name without extension (what A1111 and kohya's samplers use); for a diffusers
 * file also its token ({@code <cat-toy>}), which is what diffusers' {@code load_textual_inversion} uses.
 *
 * @param file    where it was read from
 * @param layout  which of the known layouts the file has
 * @param words   the words prompts call it by, the first being its name
 * @param vectors the vectors, row after row ({@code rows × width} floats)
 */
public record EmbeddingFile(Path file, EmbeddingLayout layout, List<String> words, int rows, int width,
                            float[] vectors) {
    private static final String A1111_PARAMS = "string_to_param.";

    public EmbeddingFile {
        words = List.copyOf(words);
        if ((long) rows * width != vectors.length) {
            throw new IllegalArgumentException(rows + "x" + width + " vectors need " + (long) rows * width
                    + " floats, got " + vectors.length);
        }
    }

    /** The name prompts use: the first word. */
    public String name() {
        return words.get(0);
    }

    /** One vector. */
    public float[] row(int i) {
        float[] r = new float[width];
        System.arraycopy(vectors, i * width, r, 0, width);
        return r;
    }

    /**
     * Reads an embedding file.
     *
     * @throws ModelLoadException naming the file and what is wrong with it (not an embedding, several terms, an
     *                            unreadable type)
     */
    public static EmbeddingFile read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new ModelLoadException(file, Files.exists(file) ? "is not a file" : "no such file");
        }
        try (TensorSource source = open(file)) {
            return of(file, source);
        }
    }

    private static TensorSource open(Path file) throws IOException {
        ByteBuffer head = ByteBuffer.allocate(9).order(ByteOrder.LITTLE_ENDIAN);
        long size;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            size = ch.size();
            while (head.hasRemaining() && ch.read(head) > 0) {
                // fill the head
            }
        } catch (NoSuchFileException e) {
            throw new ModelLoadException(file, "no such file");
        }
        head.flip();
        if (head.remaining() >= 4 && head.getInt(0) == 0x04034b50 || head.remaining() >= 2
                && (head.get(0) & 0xff) == 0x80) {
            return TorchCheckpointReader.open(file);
        }
        if (head.remaining() == 9 && head.get(8) == '{' && head.getLong(0) > 0 && head.getLong(0) <= size - 8) {
            return SafetensorsReader.open(file);
        }
        throw new ModelLoadException(file, "is not an embedding: neither a PyTorch file nor safetensors");
    }

    private static EmbeddingFile of(Path file, TensorSource source) throws IOException {
        List<TensorInfo> tensors = source.tensors();
        List<TensorInfo> a1111 = tensors.stream().filter(t -> t.name().startsWith(A1111_PARAMS)).toList();
        String stem = stem(file);
        if (!a1111.isEmpty()) {
            if (a1111.size() != 1) {
                throw new ModelLoadException(file, "holds " + a1111.size() + " terms in string_to_param ("
                        + names(a1111) + "); an embedding file holds one");
            }
            return build(file, source, a1111.get(0), EmbeddingLayout.A1111, List.of(stem));
        }
        boolean hasL = tensors.stream().anyMatch(t -> t.name().equals("clip_l"));
        boolean hasG = tensors.stream().anyMatch(t -> t.name().equals("clip_g"));
        if (hasL && hasG) {
            throw new ModelLoadException(file, "is an SDXL embedding (clip_l + clip_g); it needs an SDXL model,"
                    + " and Easel samples SD1 and SD2 models");
        }
        if (tensors.size() != 1) {
            throw new ModelLoadException(file, tensors.isEmpty() ? "holds no tensor, so it is not an embedding"
                    : "holds " + tensors.size() + " tensors (" + names(tensors) + "); an embedding file holds one "
                    + "(A1111 string_to_param, kohya emb_params or a diffusers {token: vectors})");
        }
        TensorInfo only = tensors.get(0);
        if (only.name().equals("emb_params") || only.name().equals("*")) {
            return build(file, source, only, EmbeddingLayout.KOHYA, List.of(stem));
        }
        List<String> words = new ArrayList<>();
        words.add(only.name());
        if (!stem.equals(only.name()) && !stem.isBlank()) {
            words.add(stem);
        }
        return build(file, source, only, EmbeddingLayout.DIFFUSERS, words);
    }

    private static EmbeddingFile build(Path file, TensorSource source, TensorInfo info, EmbeddingLayout layout,
                                       List<String> words) throws IOException {
        long[] shape = info.shape();
        if (shape.length == 0 || shape.length > 2 || shape[shape.length - 1] == 0 || (shape.length == 2
                && shape[0] == 0)) {
            throw new ModelLoadException(file, "tensor '" + info.name() + "' has shape " + java.util.Arrays.toString(
                    shape) + "; embedding vectors are [vectors, width] (or one [width] vector)");
        }
        if (!FloatConversion.supports(info.dtype(), DType.F32)) {
            throw new ModelLoadException(file, "tensor '" + info.name() + "' is " + info.dtype()
                    + "; embedding vectors are F32, F16, BF16 or F64");
        }
        int rows = shape.length == 1 ? 1 : Math.toIntExact(shape[0]);
        int width = Math.toIntExact(shape[shape.length - 1]);
        ByteBuffer f32 = FloatConversion.convert(source.read(info.name()).slice().order(ByteOrder.LITTLE_ENDIAN),
                info.dtype(), DType.F32).order(ByteOrder.LITTLE_ENDIAN);
        float[] v = new float[rows * width];
        f32.asFloatBuffer().get(v);
        for (float x : v) {
            if (!Float.isFinite(x)) {
                throw new ModelLoadException(file, "tensor '" + info.name() + "' holds NaN or infinite values");
            }
        }
        return new EmbeddingFile(file, layout, words, rows, width, v);
    }

    /** The file name without its last extension, as A1111 names embeddings. */
    static String stem(Path file) {
        String name = file.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return dot > 0 ? name.substring(0, dot) : name;
    }

    private static String names(List<TensorInfo> infos) {
        List<String> n = infos.stream().map(TensorInfo::name).limit(6).toList();
        return String.join(", ", n) + (infos.size() > 6 ? ", ..." : "");
    }

    /** A one-line description for logs: {@code zxq (A1111 .pt, 2 vectors of 768)}. */
    public String describe() {
        return String.format(Locale.ROOT, "%s (%s, %d vector%s of %d)", String.join(" / ", words), layout.label(),
                rows, rows == 1 ? "" : "s", width);
    }
}
