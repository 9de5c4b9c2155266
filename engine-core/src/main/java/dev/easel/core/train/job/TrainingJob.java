package dev.easel.core.train.job;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.easel.core.train.config.JobConfig;
import dev.easel.core.train.loop.StepReport;
import dev.easel.core.train.loop.TrainingListener;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** One job of the queue: its config and its live status, updated by the loop as it runs. Thread-safe. */
public final class TrainingJob implements TrainingListener {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_WARNINGS = 100;

    private final String id;
    private final JobConfig config;
    private final Instant created = Instant.now();
    private volatile boolean cancelRequested;
    private JobState state = JobState.QUEUED;
    private String phase = "queued";
    private long step;
    private long totalSteps;
    private double loss = Double.NaN;
    private double averageLoss = Double.NaN;
    private String error;
    private Instant started;
    private Instant finished;
    private final List<String> outputs = new ArrayList<>();
    private final List<String> warnings = new ArrayList<>();

    TrainingJob(String id, JobConfig config) {
        this.id = id;
        this.config = config;
    }

    /** The job's id. */
    public String id() {
        return id;
    }

    /** Its validated config. */
    public JobConfig config() {
        return config;
    }

    /** Its state now. */
    public synchronized JobState state() {
        return state;
    }

    /** Steps done. */
    public synchronized long step() {
        return step;
    }

    /** Whether cancellation was asked for. */
    public boolean cancelRequested() {
        return cancelRequested;
    }

    void requestCancel() {
        cancelRequested = true;
    }

    synchronized void transition(JobState next, String failure) {
        state = next;
        if (next == JobState.RUNNING) {
            started = Instant.now();
        }
        if (next.finished()) {
            finished = Instant.now();
            phase = next.label();
        }
        if (failure != null) {
            error = failure;
        }
        notifyAll();
    }

    /** Waits until the job has finished or the timeout passed; returns its state. */
    public synchronized JobState await(long millis) throws InterruptedException {
        long end = System.currentTimeMillis() + millis;
        while (!state.finished()) {
            long left = end - System.currentTimeMillis();
            if (left <= 0) {
                break;
            }
            wait(left);
        }
        return state;
    }

    @Override
    public synchronized void phase(String name) {
        phase = name;
    }

    @Override
    public synchronized void started(long s, long total) {
        step = s;
        totalSteps = total;
    }

    @Override
    public synchronized void step(StepReport r) {
        step = r.step();
        totalSteps = r.totalSteps();
        loss = r.loss();
        averageLoss = r.averageLoss();
    }

    @Override
    public synchronized void output(Path file) {
        String f = file.toString();
        if (!outputs.contains(f)) {
            outputs.add(f);
        }
    }

    @Override
    public synchronized void warning(String line) {
        if (warnings.size() < MAX_WARNINGS) {
            warnings.add(line);
        }
    }

    /** The status as {@code GET /api/jobs/ID} returns it. */
    public synchronized ObjectNode toJson() {
        ObjectNode o = JSON.createObjectNode();
        o.put("id", id);
        o.put("method", config.methodId());
        o.put("state", state.label());
        o.put("phase", phase);
        o.put("step", step);
        o.put("total_steps", totalSteps);
        if (Double.isFinite(loss)) {
            o.put("loss", loss);
            o.put("average_loss", averageLoss);
        } else {
            o.putNull("loss");
        }
        o.put("output_dir", config.outputDir().toString());
        ArrayNode out = o.putArray("outputs");
        outputs.forEach(out::add);
        ArrayNode warn = o.putArray("warnings");
        warnings.forEach(warn::add);
        if (error != null) {
            o.put("error", error);
        }
        o.put("created", created.toString());
        if (started != null) {
            o.put("started", started.toString());
        }
        if (finished != null) {
            o.put("finished", finished.toString());
        }
        return o;
    }
}
