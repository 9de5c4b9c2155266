package dev.easel.core.train.loop;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The JSONL log of a job: one line per optimiser step ({@code step}, {@code epoch}, {@code loss}, {@code lr} per
 * group, {@code grad_norm}, {@code time}). A resumed job first drops the lines past its checkpoint, so the log
 * reads as one run.
 */
public final class TrainingLog implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path file;
    private final BufferedWriter out;

    private TrainingLog(Path file, BufferedWriter out) {
        this.file = file;
        this.out = out;
    }

    /** Opens the log, keeping lines of steps up to {@code keepUpTo} (0: start afresh). */
    public static TrainingLog open(Path file, long keepUpTo) throws IOException {
        Files.createDirectories(file.getParent());
        List<String> kept = new ArrayList<>();
        if (keepUpTo > 0 && Files.exists(file)) {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                if (!line.isBlank() && JSON.readTree(line).path("step").asLong() <= keepUpTo) {
                    kept.add(line);
                }
            }
        }
        Files.write(file, kept, StandardCharsets.UTF_8);
        return new TrainingLog(file, Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.APPEND));
    }

    /** Appends one step. {@code step} counts from 1 (steps done). */
    public void step(long step, int epoch, double loss, Map<String, Double> lr, double gradNorm, StepTimings timings)
            throws IOException {
        ObjectNode o = JSON.createObjectNode();
        o.put("step", step);
        o.put("epoch", epoch);
        o.put("loss", loss);
        ObjectNode rates = o.putObject("lr");
        lr.forEach(rates::put);
        o.put("grad_norm", gradNorm);
        o.put("time", System.currentTimeMillis() / 1000.0);
        if (timings != null) {
            ObjectNode t = o.putObject("seconds");
            t.put("data", round(timings.data()));
            t.put("compute", round(timings.compute()));
            t.put("update", round(timings.update()));
        }
        out.write(JSON.writeValueAsString(o));
        out.newLine();
        out.flush();
    }

    private static double round(double seconds) {
        return Math.round(seconds * 1e6) / 1e6;
    }

    /** (step, loss) of every line. */
    public static List<double[]> losses(Path file) throws IOException {
        List<double[]> out = new ArrayList<>();
        if (!Files.exists(file)) {
            return out;
        }
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (!line.isBlank()) {
                var n = JSON.readTree(line);
                out.add(new double[] {n.path("step").asDouble(), n.path("loss").asDouble()});
            }
        }
        return out;
    }

    /** The log file. */
    public Path file() {
        return file;
    }

    @Override
    public void close() throws IOException {
        out.close();
    }
}
