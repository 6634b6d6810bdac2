#!/usr/bin/env bash
# Create and configure Bugline's media bucket on AWS S3 with the AWS CLI, from the JSON files
# beside this script (each is the exact --*-configuration document its command takes).
#
#   infra/s3/apply.sh BUCKET REGION [ORIGIN...]
#
# ORIGINs (https://app.example.com ...) become the CORS rule's allowed origins. Bugline also
# writes that rule itself on `bugline migrate` and `bugline create-project`, from every
# project's allowed origins plus BUGLINE_PUBLIC_URL; pass them here when Bugline's
# credentials may not change the bucket's CORS. Re-running the script is safe.
set -euo pipefail

bucket=${1:?usage: apply.sh BUCKET REGION [ORIGIN...]}
region=${2:?usage: apply.sh BUCKET REGION [ORIGIN...]}
shift 2
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

s3api() { aws s3api --region "$region" "$@"; }

if ! s3api head-bucket --bucket "$bucket" 2>/dev/null; then
  if [ "$region" = us-east-1 ]; then
    s3api create-bucket --bucket "$bucket"
  else
    s3api create-bucket --bucket "$bucket" --create-bucket-configuration "LocationConstraint=$region"
  fi
fi

s3api put-public-access-block --bucket "$bucket" \
  --public-access-block-configuration "file://$here/public-access-block.json"
s3api put-bucket-ownership-controls --bucket "$bucket" \
  --ownership-controls "file://$here/ownership-controls.json"
s3api put-bucket-encryption --bucket "$bucket" \
  --server-side-encryption-configuration "file://$here/encryption.json"
s3api put-bucket-lifecycle-configuration --bucket "$bucket" \
  --lifecycle-configuration "file://$here/lifecycle.json"
sed "s/BUCKET/$bucket/g" "$here/bucket-policy.json" > "$work/bucket-policy.json"
s3api put-bucket-policy --bucket "$bucket" --policy "file://$work/bucket-policy.json"

if [ "$#" -gt 0 ]; then
  python3 - "$here/cors.json" "$work/cors.json" "$@" <<'PY'
import json, sys
src, dst, *origins = sys.argv[1:]
doc = json.load(open(src))
doc["CORSRules"][0]["AllowedOrigins"] = origins
json.dump(doc, open(dst, "w"))
PY
  s3api put-bucket-cors --bucket "$bucket" --cors-configuration "file://$work/cors.json"
fi

sed "s/BUCKET/$bucket/g" "$here/iam-policy.json" > "$work/iam-policy.json"
echo "Bucket $bucket is configured. Bugline's IAM policy (attach it to its role or user):"
cat "$work/iam-policy.json"
