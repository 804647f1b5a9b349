// The AWS SDK for JavaScript v3 as an exec'd program sees it: credentials from the
// container endpoint in its environment, then STS GetCallerIdentity. Prints the account, the
// caller's ARN and the access key id it signed with, as JSON.
import { fromContainerMetadata } from "@aws-sdk/credential-providers";
import { STSClient, GetCallerIdentityCommand } from "@aws-sdk/client-sts";

const credentials = fromContainerMetadata({ timeout: 5000, maxRetries: 0 });
const client = new STSClient({
  region: process.env.AWS_REGION,
  endpoint: process.env.AWS_ENDPOINT_URL_STS,
  credentials,
});
const identity = await client.send(new GetCallerIdentityCommand({}));
const used = await credentials();
console.log(JSON.stringify({ Arn: identity.Arn, Account: identity.Account, AccessKeyId: used.accessKeyId }));
