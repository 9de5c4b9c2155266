/**
 * diffusers pipeline folders: reading their components as one flat, component-prefixed source, and writing them
 * with configs derived from the weights, published atomically.
 */
package dev.easel.core.format.diffusers;
