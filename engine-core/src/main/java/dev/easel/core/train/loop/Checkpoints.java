package dev.easel.core.train.loop;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.easel.core.format.AtomicOutputFile;
import dev.easel.core.train.io.TensorFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Resumable state folders under {@code output_dir/state/}: {@code step-00000100/} holding {@code state.json},
 * {@code trainable.safetensors} (every trained tensor), {@code optimizer.safetensors} and
 * {@code method.safetensors}. A folder appears only complete (written beside, then renamed).
 */
public final class Checkpoints {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final Pattern STATE = Pattern.compile("step-(\\d{8})");

    private Checkpoints() {
    }

    /** The state folder of a step. */
    public static Path folder(Path stateRoot, long step) {
        return stateRoot.resolve(String.format("step-%08d", step));
    }

    /** Writes a state folder atomically. */
    public static Path save(Path stateRoot, TrainingState state, Map<String, NDArray> trainable,
                            Map<String, NDArray> optimizer, Map<String, NDArray> method) throws IOException {
        Files.createDirectories(stateRoot);
        Path target = folder(stateRoot, state.step());
        Path tmp = stateRoot.resolve(".tmp-" + target.getFileName());
        deleteTree(tmp);
        Files.createDirectories(tmp);
        TensorFiles.write(tmp.resolve("trainable.safetensors"), trainable, Map.of());
        TensorFiles.write(tmp.resolve("optimizer.safetensors"), optimizer, Map.of());
        TensorFiles.write(tmp.resolve("method.safetensors"), method, Map.of());
        try (AtomicOutputFile out = AtomicOutputFile.create(tmp.resolve("state.json"))) {
            out.channel().write(ByteBuffer.wrap(JSON.writeValueAsBytes(state)));
            out.commit();
        }
        deleteTree(target);
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        return target;
    }

    /** A loaded state folder. */
    public record Loaded(TrainingState state, Map<String, NDArray> trainable, Map<String, NDArray> optimizer,
                         Map<String, NDArray> method) {
    }

    /** Reads a state folder into {@code manager}. */
    public static Loaded load(Path folder, NDManager manager) throws IOException {
        Path json = folder.resolve("state.json");
        if (!Files.isRegularFile(json)) {
            throw new IOException(folder + ": not an Easel state folder (no state.json)");
        }
        TrainingState state = JSON.readValue(json.toFile(), TrainingState.class);
        if (!TrainingState.FORMAT.equals(state.format())) {
            throw new IOException(json + ": unknown state format '" + state.format() + "'");
        }
        return new Loaded(state, TensorFiles.read(folder.resolve("trainable.safetensors"), manager),
                TensorFiles.read(folder.resolve("optimizer.safetensors"), manager),
                TensorFiles.read(folder.resolve("method.safetensors"), manager));
    }

    /** State folders under a root, oldest first. */
    public static List<Path> list(Path stateRoot) throws IOException {
        if (!Files.isDirectory(stateRoot)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(stateRoot)) {
            return s.filter(p -> STATE.matcher(p.getFileName().toString()).matches() && Files.isDirectory(p))
                    .sorted(Comparator.comparing(p -> p.getFileName().toString())).toList();
        }
    }

    /** The newest state folder, or {@code null}. */
    public static Path latest(Path stateRoot) throws IOException {
        List<Path> all = list(stateRoot);
        return all.isEmpty() ? null : all.get(all.size() - 1);
    }

    /** Deletes all but the newest {@code keep} state folders ({@code keep <= 0}: keep all). */
    public static void prune(Path stateRoot, int keep) throws IOException {
        if (keep <= 0) {
            return;
        }
        List<Path> all = new ArrayList<>(list(stateRoot));
        for (int i = 0; i < all.size() - keep; i++) {
            deleteTree(all.get(i));
        }
    }

    /**
     * Deletes all but the newest {@code keep} step results ({@code NAME-step00000100.*}) and epoch results
     * ({@code NAME-000002.*}, kohya's naming) in the output folder.
     */
    public static void pruneResults(Path outputDir, String outputName, int keep) throws IOException {
        pruneResults(outputDir, outputName, "-step", 8, keep);
        pruneResults(outputDir, outputName, "-", 6, keep);
    }

    private static void pruneResults(Path outputDir, String outputName, String infix, int digits, int keep)
            throws IOException {
        if (keep <= 0 || !Files.isDirectory(outputDir)) {
            return;
        }
        Pattern p = Pattern.compile(Pattern.quote(outputName + infix) + "(\\d{" + digits + "})\\..+");
        List<Path> results;
        try (Stream<Path> s = Files.list(outputDir)) {
            results = s.filter(f -> p.matcher(f.getFileName().toString()).matches()).toList();
        }
        List<Long> steps = results.stream().map(f -> {
            Matcher m = p.matcher(f.getFileName().toString());
            m.matches();
            return Long.parseLong(m.group(1));
        }).distinct().sorted().toList();
        for (int i = 0; i < steps.size() - keep; i++) {
            String prefix = outputName + infix + String.format("%0" + digits + "d.", steps.get(i));
            for (Path f : results) {
                if (f.getFileName().toString().startsWith(prefix)) {
                    Files.deleteIfExists(f);
                }
            }
        }
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
