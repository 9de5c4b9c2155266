package dev.easel.core.train.config;

import dev.easel.api.ParameterSchema;

/** Looks up the parameter schema of a training method by id; throws a message naming what is installed. */
@FunctionalInterface
public interface MethodResolver {
    ParameterSchema schema(String methodId);
}
