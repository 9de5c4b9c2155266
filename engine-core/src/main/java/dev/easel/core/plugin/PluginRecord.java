package dev.easel.core.plugin;

import dev.easel.api.EaselPlugin;
import java.util.Objects;

/**
 * One entry of the registry: a service (or a refused bundle) with its kind, id, version, origin and state.
 *
 * @param kind     the SPI, or {@code null} for a refused bundle whose services could not be read
 * @param id       the descriptor id; for a refused bundle, its symbolic name or file name
 * @param version  the descriptor version; for a refused bundle, its bundle version
 * @param description the descriptor description, or empty
 * @param origin   where it came from
 * @param state    active, draining or refused
 * @param reason   why it is refused or draining, else empty
 * @param plugin   the service instance, {@code null} when refused
 */
public record PluginRecord(PluginKind kind, String id, String version, String description, PluginOrigin origin,
                           PluginState state, String reason, EaselPlugin plugin) {
    public PluginRecord {
        Objects.requireNonNull(id, "id is null");
        Objects.requireNonNull(version, "version is null");
        Objects.requireNonNull(origin, "origin is null");
        Objects.requireNonNull(state, "state is null");
        description = description == null ? "" : description;
        reason = reason == null ? "" : reason;
    }

    /** A record of a live service. */
    public static PluginRecord active(PluginKind kind, EaselPlugin plugin, PluginOrigin origin) {
        return new PluginRecord(kind, plugin.descriptor().id(), plugin.descriptor().version().toString(),
                plugin.descriptor().description(), origin, PluginState.ACTIVE, "", plugin);
    }

    /** The same record in another state. */
    public PluginRecord withState(PluginState newState, String newReason) {
        return new PluginRecord(kind, id, version, description, origin, newState, newReason, plugin);
    }

    /** The kind label, or {@code bundle} when unknown. */
    public String kindLabel() {
        return kind == null ? "bundle" : kind.label();
    }
}
