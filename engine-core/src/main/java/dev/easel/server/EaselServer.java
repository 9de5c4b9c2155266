package dev.easel.server;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.easel.cli.PluginRows;
import dev.easel.core.Easel;
import dev.easel.core.plugin.PluginKind;
import dev.easel.core.plugin.PluginRecord;
import dev.easel.core.train.job.TrainingJobQueue;
import io.javalin.Javalin;
import io.javalin.http.ContentType;
import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP API of a running engine.
 *
 * <ul>
 *   <li>{@code GET /api/health} → {@code {"status":"ok"}}</li>
 *   <li>{@code GET /api/plugins} → the array {@code easel plugins list --json} prints</li>
 *   <li>{@code GET /api/plugins/{id}} → one service with its parameter schema (id may be {@code family/impl})</li>
 *   <li>{@code /api/jobs}: training jobs, see {@link JobRoutes}</li>
 * </ul>
 */
public final class EaselServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EaselServer.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Easel easel;
    private final Javalin app;

    public EaselServer(Easel easel) {
        this.easel = easel;
        this.app = Javalin.create(config -> {
            config.showJavalinBanner = false;
            config.useVirtualThreads = false;
        });
        app.get("/api/health", ctx -> {
            ObjectNode o = JSON.createObjectNode();
            o.put("status", "ok");
            ctx.contentType(ContentType.APPLICATION_JSON).result(JSON.writeValueAsString(o));
        });
        app.get("/api/plugins", ctx -> ctx.contentType(ContentType.APPLICATION_JSON)
                .result(PluginRows.write(PluginRows.toJson(easel.registry().list()))));
        app.get("/api/plugins/<id>", ctx -> {
            String id = ctx.pathParam("id");
            List<PluginRecord> found = new ArrayList<>();
            for (PluginKind kind : PluginKind.values()) {
                try {
                    found.add(easel.registry().select(kind, id));
                } catch (NoSuchElementException e) {
                    // not of this kind
                }
            }
            if (found.isEmpty()) {
                ctx.status(404).contentType(ContentType.APPLICATION_JSON)
                        .result(error("no plugin '" + id + "' is installed"));
                return;
            }
            ctx.contentType(ContentType.APPLICATION_JSON).result(PluginRows.write(PluginRows.detail(found.get(0))));
        });
        JobRoutes.register(app, easel.get(TrainingJobQueue.class));
        app.exception(Exception.class, (e, ctx) -> {
            LOG.warn("{} {} failed: {}", ctx.method(), ctx.path(), e.toString());
            ctx.status(500).contentType(ContentType.APPLICATION_JSON).result(error(String.valueOf(e.getMessage())));
        });
    }

    private static String error(String message) {
        ObjectNode o = JSON.createObjectNode();
        o.put("error", message);
        return o.toString();
    }

    /** Starts listening; port 0 picks a free port. */
    public EaselServer start(String host, int port) {
        app.start(host, port);
        LOG.info("serving on http://{}:{}", host, port());
        return this;
    }

    /** The port it listens on. */
    public int port() {
        return app.port();
    }

    /** The engine it serves. */
    public Easel easel() {
        return easel;
    }

    @Override
    public void close() {
        app.stop();
        easel.get(TrainingJobQueue.class).close();
    }
}
