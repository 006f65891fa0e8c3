cd /work/main && source .venv/bin/activate
B=benchmarks/train_throughput.py
for round in 1 2; do
 for cfg in "resnet_6blocks 32 96 4" "resnet_9blocks 64 128 1"; do
  set -- $cfg
  common="--generator $1 --ngf $2 --size $3 --batch-size $4 --precisions float32 --jit off --warmup 3 --steps 10 --threads 2"
  tag=$3x$4
  PYTHONPATH=/tmp/before python $B $common --out /work/notes/crop/before_${tag}_r$round
  python $B $common --out /work/notes/crop/after_${tag}_r$round
  python $B $common --inter-op 1 --out /work/notes/crop/after_inter1_${tag}_r$round
 done
done
echo ALLDONE
