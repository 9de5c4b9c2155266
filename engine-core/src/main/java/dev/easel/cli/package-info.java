/**
 * The {@code easel} command line (picocli). Every command has {@code --help}; exit codes are 0 for success, 1 for
 * a failure (bad input, failed work: one line on stderr naming the file and the problem) and 2 for a usage error.
 */
package dev.easel.cli;
