// Package train runs training: the engine shared by segmentation fine-tuning (train/seg)
// and the pretext methods (train/pretext). A Task says what to optimise; the engine does
// the rest — data loading, SGD with parameter groups (train/optim), LR schedules
// (train/schedule), checkpoints that survive kills and full disks (train/checkpoint),
// resume that reproduces an uninterrupted run, SIGINT/SIGTERM handling, NaN/Inf detection,
// progress and metrics.jsonl (train/runlog).
package train
