package dev.easel.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.easel.core.train.config.ConfigException;
import dev.easel.core.train.config.JobConfig;
import dev.easel.core.train.job.TrainingJob;
import dev.easel.core.train.job.TrainingJobQueue;
import io.javalin.Javalin;
import io.javalin.http.ContentType;
import io.javalin.http.Context;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The training job API:
 * <ul>
 *   <li>{@code POST /api/jobs} with a job config as a JSON object (the keys of a TOML config, plus {@code method})
 *       → {@code 201 {"id": ..., "state": "queued"}}, or {@code 400 {"error": ...}} naming the bad key</li>
 *   <li>{@code GET /api/jobs} → every job's status</li>
 *   <li>{@code GET /api/jobs/ID} → state, phase, step, total_steps, loss, outputs, warnings, error</li>
 *   <li>{@code DELETE /api/jobs/ID} → cancels: a queued job never starts, a running one saves and stops</li>
 * </ul>
 */
final class JobRoutes {
    private static final ObjectMapper JSON = new ObjectMapper();

    private JobRoutes() {
    }

    static void register(Javalin app, TrainingJobQueue queue) {
        app.post("/api/jobs", ctx -> {
            JsonNode body;
            try {
                body = JSON.readTree(ctx.body());
            } catch (Exception e) {
                error(ctx, 400, "request body is not JSON: " + e.getMessage());
                return;
            }
            if (body == null || !body.isObject()) {
                error(ctx, 400, "request body must be a JSON object of config keys");
                return;
            }
            JobConfig config;
            try {
                config = queue.loader().load("request", values(body));
            } catch (ConfigException e) {
                error(ctx, 400, e.getMessage());
                return;
            }
            TrainingJob job = queue.submit(config);
            ctx.status(201);
            json(ctx, job.toJson());
        });
        app.get("/api/jobs", ctx -> {
            ArrayNode all = JSON.createArrayNode();
            queue.list().forEach(j -> all.add(j.toJson()));
            ctx.contentType(ContentType.APPLICATION_JSON).result(JSON.writeValueAsString(all));
        });
        app.get("/api/jobs/{id}", ctx -> queue.get(ctx.pathParam("id")).ifPresentOrElse(
                j -> json(ctx, j.toJson()), () -> error(ctx, 404, "no job '" + ctx.pathParam("id") + "'")));
        app.delete("/api/jobs/{id}", ctx -> queue.cancel(ctx.pathParam("id")).ifPresentOrElse(
                j -> json(ctx, j.toJson()), () -> error(ctx, 404, "no job '" + ctx.pathParam("id") + "'")));
    }

    private static Map<String, Object> values(JsonNode body) {
        Map<String, Object> out = new LinkedHashMap<>();
        Iterator<Map.Entry<String, JsonNode>> it = body.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            out.put(e.getKey(), value(e.getKey(), e.getValue()));
        }
        return out;
    }

    private static Object value(String key, JsonNode v) {
        if (v.isNull()) {
            return null;
        }
        if (v.isBoolean()) {
            return v.booleanValue();
        }
        if (v.isIntegralNumber()) {
            return v.longValue();
        }
        if (v.isNumber()) {
            return v.doubleValue();
        }
        if (v.isArray()) {
            List<Object> list = new ArrayList<>();
            v.forEach(x -> list.add(value(key, x)));
            return list;
        }
        if (v.isObject()) {
            throw new ConfigException("request", key, "key '" + key + "' must be a value or a list, not an object");
        }
        return v.asText();
    }

    private static void json(Context ctx, ObjectNode o) {
        ctx.contentType(ContentType.APPLICATION_JSON).result(o.toString());
    }

    private static void error(Context ctx, int status, String message) {
        ObjectNode o = JSON.createObjectNode();
        o.put("error", message);
        ctx.status(status).contentType(ContentType.APPLICATION_JSON).result(o.toString());
    }
}
