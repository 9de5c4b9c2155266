package dev.easel.core.format.diffusers;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.easel.api.format.ModelFormatException;
import dev.easel.api.tensor.TensorInfo;
import dev.easel.api.tensor.TensorSource;
import dev.easel.core.convert.RecipeWriter;
import dev.easel.core.convert.TensorRecipe;
import dev.easel.core.model.SdModelInfo;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

/**
 * Writes a diffusers pipeline folder: one safetensors file per component (streamed like any safetensors output),
 * the JSON configs derived from the weights, the scheduler config and the tokenizer. The folder is built beside
 * the target under a hidden temporary name and renamed into place at the end, so a failure leaves nothing behind
 * and an existing folder is replaced only by a complete one.
 *
 * <p>Tokenizer: copied from the source pipeline when there is one; otherwise {@code vocab.json} and
 * {@code merges.txt} are derived from the CLIP BPE vocabulary when the engine ships it (resource
 * {@value #CLIP_VOCAB}); without it only {@code tokenizer_config.json} and {@code special_tokens_map.json} are
 * written, and a warning says the vocabulary must be added.
 */
public final class DiffusersWriter {
    /** Where the CLIP BPE vocabulary lives on the class path, if the engine ships it. */
    static final String CLIP_VOCAB = "/dev/easel/core/sd/clip/bpe_simple_vocab_16e6.txt.gz";
    private static final Map<String, String> WEIGHT_FILE = Map.of("unet", "diffusion_pytorch_model.safetensors",
            "vae", "diffusion_pytorch_model.safetensors", "text_encoder", "model.safetensors",
            "text_encoder_2", "model.safetensors");
    private static final SecureRandom RANDOM = new SecureRandom();

    private DiffusersWriter() {
    }

    /**
     * Writes {@code recipes} (names prefixed by component: {@code unet.}, {@code vae.}, {@code text_encoder.}) as a
     * pipeline folder at {@code target}.
     *
     * @param tokenizerSource a diffusers folder whose {@code tokenizer/} is copied, or null
     */
    public static void write(TensorSource source, List<TensorRecipe> recipes, SdModelInfo info, Path target,
            Path tokenizerSource, Consumer<String> warn) throws IOException {
        Map<String, List<TensorRecipe>> byComponent = new LinkedHashMap<>();
        List<String> homeless = new ArrayList<>();
        for (TensorRecipe r : recipes) {
            String name = r.out().name();
            int dot = name.indexOf('.');
            String component = dot < 0 ? "" : name.substring(0, dot);
            if (!WEIGHT_FILE.containsKey(component)) {
                homeless.add(name);
                continue;
            }
            byComponent.computeIfAbsent(component, k -> new ArrayList<>()).add(new TensorRecipe(
                    r.out().withName(name.substring(dot + 1)), r.sourceType(), r.parts(), r.transpose()));
        }
        if (byComponent.isEmpty()) {
            throw new ModelFormatException(source.location(), "has no UNet, VAE or text encoder weights to write "
                    + "as a diffusers folder");
        }
        if (!homeless.isEmpty()) {
            warn.accept("dropped " + homeless.size() + " tensor(s) outside the diffusers components, e.g. "
                    + homeless.subList(0, Math.min(3, homeless.size())));
        }
        Path absolute = target.toAbsolutePath();
        Path parent = absolute.getParent();
        if (parent == null || !Files.isDirectory(parent)) {
            throw new ModelFormatException(target, "the folder " + parent + " does not exist");
        }
        if (Files.exists(absolute) && !Files.isDirectory(absolute)) {
            throw new ModelFormatException(target, "is a file; a diffusers output must be a folder");
        }
        Path temp = parent.resolve("." + absolute.getFileName() + "." + Long.toUnsignedString(RANDOM.nextLong(), 36)
                + ".tmp");
        Files.createDirectory(temp);
        try {
            List<String> components = new ArrayList<>(byComponent.keySet());
            for (Map.Entry<String, List<TensorRecipe>> c : byComponent.entrySet()) {
                Path dir = Files.createDirectories(temp.resolve(c.getKey()));
                RecipeWriter.writeSafetensors(source, c.getValue(), Map.of("format", "pt"),
                        dir.resolve(WEIGHT_FILE.get(c.getKey())));
                List<TensorInfo> infos = c.getValue().stream().map(TensorRecipe::out).toList();
                ObjectNode config = switch (c.getKey()) {
                    case "unet" -> DiffusersConfigs.unet(info, infos);
                    case "vae" -> DiffusersConfigs.vae(info, infos);
                    default -> DiffusersConfigs.textEncoder(info, infos);
                };
                DiffusersConfigs.writeJson(dir.resolve("config.json"), config);
            }
            DiffusersConfigs.writeJson(temp.resolve("model_index.json"), DiffusersConfigs.modelIndex(info, components));
            DiffusersConfigs.writeJson(temp.resolve("scheduler").resolve("scheduler_config.json"),
                    DiffusersConfigs.scheduler(info));
            if (components.contains("text_encoder")) {
                writeTokenizer(temp.resolve("tokenizer"), info, tokenizerSource, warn);
            }
            publish(temp, absolute);
        } catch (IOException | RuntimeException e) {
            deleteTree(temp);
            throw e;
        }
    }

    private static void writeTokenizer(Path dir, SdModelInfo info, Path tokenizerSource, Consumer<String> warn)
            throws IOException {
        Path from = tokenizerSource == null ? null : tokenizerSource.resolve("tokenizer");
        if (from != null && Files.isDirectory(from)) {
            Files.createDirectories(dir);
            try (Stream<Path> files = Files.list(from)) {
                for (Path f : (Iterable<Path>) files::iterator) {
                    if (Files.isRegularFile(f)) {
                        Files.copy(f, dir.resolve(f.getFileName().toString()));
                    }
                }
            }
            return;
        }
        DiffusersConfigs.writeJson(dir.resolve("tokenizer_config.json"), DiffusersConfigs.tokenizerConfig(info));
        DiffusersConfigs.writeJson(dir.resolve("special_tokens_map.json"), DiffusersConfigs.specialTokens(info));
        try (InputStream vocab = DiffusersWriter.class.getResourceAsStream(CLIP_VOCAB)) {
            if (vocab == null) {
                warn.accept("tokenizer/ has no vocab.json and merges.txt (the CLIP vocabulary is not installed); "
                        + "copy them from any SD 1.x/2.x diffusers model");
                return;
            }
            writeVocabulary(dir, vocab);
        }
    }

    /**
     * Derives Hugging Face's {@code vocab.json} and {@code merges.txt} from OpenAI's BPE file, as CLIP's
     * {@code simple_tokenizer.py} builds its vocabulary: 256 byte characters, the same with {@code </w>}, the
     * 48,894 merges in order, then the two special tokens.
     */
    static void writeVocabulary(Path dir, InputStream gz) throws IOException {
        List<String> merges = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(new GZIPInputStream(gz), StandardCharsets.UTF_8))) {
            r.readLine();
            String line;
            while (merges.size() < 49152 - 256 - 2 && (line = r.readLine()) != null) {
                merges.add(line);
            }
        }
        List<String> byteChars = new ArrayList<>();
        List<Integer> bs = new ArrayList<>();
        for (int b = '!'; b <= '~'; b++) {
            bs.add(b);
        }
        for (int b = 0xa1; b <= 0xac; b++) {
            bs.add(b);
        }
        for (int b = 0xae; b <= 0xff; b++) {
            bs.add(b);
        }
        List<Integer> cs = new ArrayList<>(bs);
        int n = 0;
        for (int b = 0; b < 256; b++) {
            if (!bs.contains(b)) {
                bs.add(b);
                cs.add(256 + n++);
            }
        }
        for (int c : cs) {
            byteChars.add(new String(Character.toChars(c)));
        }
        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (String c : byteChars) {
            vocab.put(c, vocab.size());
        }
        for (String c : byteChars) {
            vocab.put(c + "</w>", vocab.size());
        }
        for (String m : merges) {
            vocab.putIfAbsent(m.replace(" ", ""), vocab.size());
        }
        vocab.put("<|startoftext|>", vocab.size());
        vocab.put("<|endoftext|>", vocab.size());
        Files.writeString(dir.resolve("vocab.json"), new ObjectMapper().writeValueAsString(vocab));
        Files.writeString(dir.resolve("merges.txt"), "#version: 0.2\n" + String.join("\n", merges) + "\n");
    }

    private static void publish(Path temp, Path target) throws IOException {
        if (!Files.exists(target)) {
            move(temp, target);
            return;
        }
        Path old = target.resolveSibling("." + target.getFileName() + "." + Long.toUnsignedString(RANDOM.nextLong(), 36)
                + ".old");
        move(target, old);
        try {
            move(temp, target);
        } catch (IOException e) {
            move(old, target);
            throw e;
        }
        deleteTree(old);
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to);
        }
    }

    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
                Files.delete(dir);
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
