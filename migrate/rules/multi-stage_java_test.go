package rules

import "testing"

var splitJavaCases = []splitCase{
	{
		name:  "maven",
		files: map[string]string{"pom.xml": "", "src/main/App.java": ""},
		in:    "FROM maven:3.9-eclipse-temurin-21\nWORKDIR /app\nCOPY pom.xml .\nRUN mvn -B dependency:go-offline\nCOPY src ./src\nRUN mvn -B package -DskipTests\nEXPOSE 8080\nCMD [\"java\", \"-jar\", \"target/app-1.0.jar\"]\n",
		want: `FROM maven:3.9-eclipse-temurin-21 AS builder
WORKDIR /app
COPY pom.xml .
RUN --mount=type=cache,target=/root/.m2 \
    mvn -B dependency:go-offline
COPY src ./src
RUN --mount=type=cache,target=/root/.m2 \
    mvn -B package -DskipTests

FROM eclipse-temurin:21-jre
WORKDIR /app
COPY --from=builder /app/target/app-1.0.jar /app/app.jar
EXPOSE 8080
CMD ["java", "-jar", "/app/app.jar"]
`,
	},
	{
		name:  "gradle wrapper on temurin alpine",
		files: map[string]string{"build.gradle": "", "gradlew": "", "src/main/App.java": ""},
		in:    "FROM eclipse-temurin:17-jdk-alpine\nWORKDIR /workspace\nCOPY . .\nRUN ./gradlew bootJar --no-daemon\nCOPY config/app.yml /etc/app/app.yml\nENTRYPOINT [\"java\", \"-jar\", \"build/libs/service.jar\"]\n",
		want: `FROM eclipse-temurin:17-jdk-alpine AS builder
WORKDIR /workspace
COPY . .
RUN --mount=type=cache,target=/root/.gradle \
    ./gradlew bootJar --no-daemon

FROM eclipse-temurin:17-jre-alpine
WORKDIR /workspace
COPY --from=builder /workspace/build/libs/service.jar /app/app.jar
COPY config/app.yml /etc/app/app.yml
ENTRYPOINT ["java", "-jar", "/app/app.jar"]
`,
	},
	{
		name:     "no jar in the start command",
		files:    map[string]string{"pom.xml": ""},
		in:       "FROM maven:3.9-eclipse-temurin-21\nWORKDIR /app\nCOPY . .\nRUN mvn package\nCMD [\"mvn\", \"spring-boot:run\"]\n",
		findings: []string{"names no jar"},
	},
}

func TestSplitJava(t *testing.T) { runSplitCases(t, splitJavaCases) }
