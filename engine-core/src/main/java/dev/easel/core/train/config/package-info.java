/**
 * Job configuration: Easel's keys under kohya's names, TOML or JSON files, {@code --param} overrides, routing of
 * each key to the engine or the method, and errors that name the key and the file.
 */
package dev.easel.core.train.config;
