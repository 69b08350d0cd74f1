// Package training is the training loop over an engine.Net: the Trainer
// that runs epochs over an index order chosen by the sampler (trainer.go),
// the peer orders that score before they train and their epochs
// (selection.go, peerstep.go), learning-rate schedules and budgets
// (schedule.go), and checkpoints (checkpoint.go). It imports engine (the
// backend contract) and sampler; neither imports it.
package training
