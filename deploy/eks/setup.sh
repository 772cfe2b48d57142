#!/usr/bin/env bash
# IRSA set-up for curity-dynamodb on EKS, start to finish, idempotent:
#   1. the cluster's OIDC issuer            (aws eks describe-cluster)
#   2. the IAM OIDC provider for it         (associated when missing)
#   3. the least-privilege IAM policy       (curity-dynamodb policy; created when missing)
#   4. the IAM role for dynamo-sa           (eksctl create iamserviceaccount --role-only:
#                                            the role only; the Helm chart owns the
#                                            ServiceAccount and annotates it)
#   5. the callers' bearer token Secret     (created once when missing; never printed)
#   6. the chart                            (helm upgrade --install)
#   7. verification                         (rollout status, curity-dynamodb doctor)
# --dry-run prints every command instead of running it (nothing is called).
set -euo pipefail

usage() {
  cat <<'USAGE'
usage: setup.sh --cluster NAME --region REGION [options]
  --account ID           AWS account id (default: from sts get-caller-identity)
  --namespace NS         Kubernetes namespace (default: curity)
  --service-account SA   ServiceAccount name (default: dynamo-sa)
  --prefix P             table name prefix (default: none)
  --policy-name NAME     IAM policy name (default: curity-dynamodb)
  --role-name NAME       IAM role name (default: curity-dynamodb-<cluster>)
  --release NAME         Helm release (default: curity-dynamodb)
  --image REPO[:TAG]     container image (default: the chart's)
  --chart DIR            chart directory (default: next to this script)
  --dry-run              print the commands, run nothing
USAGE
}

here=$(cd "$(dirname "$0")" && pwd)
CLUSTER="" REGION="" ACCOUNT="" NAMESPACE=curity SA=dynamo-sa PREFIX="" POLICY_NAME=curity-dynamodb
ROLE_NAME="" RELEASE=curity-dynamodb IMAGE="" CHART="$here/../helm/curity-dynamodb" DRY=false
while [ $# -gt 0 ]; do
  case $1 in
    --cluster) CLUSTER=$2; shift 2 ;;
    --region) REGION=$2; shift 2 ;;
    --account) ACCOUNT=$2; shift 2 ;;
    --namespace) NAMESPACE=$2; shift 2 ;;
    --service-account) SA=$2; shift 2 ;;
    --prefix) PREFIX=$2; shift 2 ;;
    --policy-name) POLICY_NAME=$2; shift 2 ;;
    --role-name) ROLE_NAME=$2; shift 2 ;;
    --release) RELEASE=$2; shift 2 ;;
    --image) IMAGE=$2; shift 2 ;;
    --chart) CHART=$2; shift 2 ;;
    --dry-run) DRY=true; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "setup.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done
[ -n "$CLUSTER" ] || { echo "setup.sh: --cluster is required" >&2; exit 2; }
[ -n "$REGION" ] || { echo "setup.sh: --region is required" >&2; exit 2; }
ROLE_NAME=${ROLE_NAME:-curity-dynamodb-$CLUSTER}

# Prints a command; runs it unless --dry-run.
run() {
  printf '+'; printf ' %q' "$@"; printf '\n'
  if ! $DRY; then "$@"; fi
}
# Prints a command; runs it and captures its output unless --dry-run, in
# which case the placeholder stands in for the output.
capture() {
  local placeholder=$1; shift
  printf '+' >&2; printf ' %q' "$@" >&2; printf '\n' >&2
  if $DRY; then echo "$placeholder"; else "$@"; fi
}
# Runs a check; in a dry run assumes it failed (so every creating command
# is shown).
exists() {
  printf '+'; printf ' %q' "$@"; printf ' (check)\n'
  if $DRY; then return 1; fi
  "$@" >/dev/null 2>&1
}

echo "# 1. OIDC issuer of cluster $CLUSTER"
ISSUER_URL=$(capture "https://oidc.eks.$REGION.amazonaws.com/id/<cluster-oidc-id>" \
  aws eks describe-cluster --name "$CLUSTER" --region "$REGION" \
  --query cluster.identity.oidc.issuer --output text)
ISSUER=${ISSUER_URL#https://}
if [ -z "$ACCOUNT" ]; then
  ACCOUNT=$(capture "<account-id>" aws sts get-caller-identity --query Account --output text)
fi

echo "# 2. IAM OIDC provider for $ISSUER"
if exists aws iam get-open-id-connect-provider \
     --open-id-connect-provider-arn "arn:aws:iam::$ACCOUNT:oidc-provider/$ISSUER"; then
  echo "#    exists"
else
  run eksctl utils associate-iam-oidc-provider --cluster "$CLUSTER" --region "$REGION" --approve
fi

echo "# 3. least-privilege policy $POLICY_NAME"
POLICY_ARN="arn:aws:iam::$ACCOUNT:policy/$POLICY_NAME"
policy_file=$(mktemp)
trap 'rm -f "$policy_file"' EXIT
if command -v curity-dynamodb >/dev/null 2>&1; then CD=curity-dynamodb; else CD="cargo run --quiet --"; fi
policy_args=(policy --region "$REGION")
[ -n "$PREFIX" ] && policy_args+=(--prefix "$PREFIX")
[[ "$ACCOUNT" =~ ^[0-9]{12}$ ]] && policy_args+=(--account "$ACCOUNT")
printf '+ %s' "$CD"; printf ' %q' "${policy_args[@]}"; printf ' > %s\n' "$policy_file"
$DRY || $CD "${policy_args[@]}" > "$policy_file"
if exists aws iam get-policy --policy-arn "$POLICY_ARN"; then
  echo "#    exists (compare with: aws iam get-policy-version; update with create-policy-version)"
else
  run aws iam create-policy --policy-name "$POLICY_NAME" --policy-document "file://$policy_file" \
    --description "curity-dynamodb: DynamoDB on table/${PREFIX}curity-* and its indexes"
fi

echo "# 4. IAM role $ROLE_NAME for $NAMESPACE/$SA (the chart owns the ServiceAccount)"
run eksctl create iamserviceaccount --cluster "$CLUSTER" --region "$REGION" \
  --namespace "$NAMESPACE" --name "$SA" --role-name "$ROLE_NAME" \
  --attach-policy-arn "$POLICY_ARN" --role-only --approve
ROLE_ARN=$(capture "arn:aws:iam::$ACCOUNT:role/$ROLE_NAME" \
  aws iam get-role --role-name "$ROLE_NAME" --query Role.Arn --output text)

AUTH_SECRET=curity-dynamodb-auth
echo "# 5. bearer token Secret $AUTH_SECRET in $NAMESPACE (callers send it; see README)"
if exists kubectl -n "$NAMESPACE" get secret "$AUTH_SECRET"; then
  echo "#    exists"
else
  exists kubectl get namespace "$NAMESPACE" || run kubectl create namespace "$NAMESPACE"
  token_file=$(mktemp)
  trap 'rm -f "$policy_file" "$token_file"' EXIT
  $DRY || (umask 077 && openssl rand -hex 32 > "$token_file")
  echo "+ openssl rand -hex 32 > $token_file"
  run kubectl -n "$NAMESPACE" create secret generic "$AUTH_SECRET" --from-file=token="$token_file"
  echo "#    read it for Curity's client: kubectl -n $NAMESPACE get secret $AUTH_SECRET -o jsonpath='{.data.token}' | base64 -d"
fi

echo "# 6. helm release $RELEASE in $NAMESPACE"
helm_args=(upgrade --install "$RELEASE" "$CHART" --namespace "$NAMESPACE" --create-namespace
  --set "aws.region=$REGION" --set "serviceAccount.name=$SA"
  --set-string "serviceAccount.roleArn=$ROLE_ARN" --set-string "dynamodb.tableNamePrefix=$PREFIX"
  --wait --timeout 5m)
if [ -n "$IMAGE" ]; then
  helm_args+=(--set "image.repository=${IMAGE%%:*}")
  [[ "$IMAGE" == *:* ]] && helm_args+=(--set "image.tag=${IMAGE##*:}")
fi
run helm "${helm_args[@]}"

echo "# 7. verify"
# The chart names the Deployment like its fullname helper does.
case $RELEASE in *curity-dynamodb*) DEPLOY=$RELEASE ;; *) DEPLOY=$RELEASE-curity-dynamodb ;; esac
run kubectl -n "$NAMESPACE" rollout status "deploy/$DEPLOY" --timeout 5m
run kubectl -n "$NAMESPACE" exec "deploy/$DEPLOY" -- curity-dynamodb doctor \
  --expect-role-arn "$ROLE_ARN" --expect-subject "system:serviceaccount:$NAMESPACE:$SA"
echo "# done"
