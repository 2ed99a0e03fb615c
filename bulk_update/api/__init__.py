"""Partner Central over boto3: the paced, retried client, its errors mapped at one boundary, pacing."""
